import { createTask } from 'node-cron';

/**
 * The longest gap between two consecutive runs of a cron expression, over its next runs: the
 * scan interval a staleness check should allow. For `17 * * * *` one hour; for `0 9 * * 1-5`
 * three days (the weekend), so a Monday-morning check does not cry wolf.
 */
export function scanIntervalMs(expression: string, timezone: string | null, runs = 30): number {
  // node-cron computes runs only through a task; one that is never started sets no timer.
  const task = createTask(expression, () => undefined, timezone ? { timezone } : {});
  try {
    const next = task.getNextRuns(runs);
    let longest = 0;
    for (let i = 1; i < next.length; i++) longest = Math.max(longest, next[i]!.getTime() - next[i - 1]!.getTime());
    return longest;
  } finally {
    void task.destroy();
  }
}
