import { cronGaps } from '../jobs/queues/schedule.js';

/**
 * The longest gap between two consecutive runs of a cron expression, over its next runs: the
 * scan interval a staleness check should allow. For `17 * * * *` one hour; for `0 9 * * 1-5`
 * three days (the weekend), so a Monday-morning check does not cry wolf.
 */
export function scanIntervalMs(expression: string, timezone: string | null, runs = 30): number {
  return Math.max(0, ...cronGaps(expression, timezone, runs));
}
