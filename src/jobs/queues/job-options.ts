/**
 * The BullMQ options of every queue's jobs, in one place: how often each is retried and how long
 * its history is kept. Job ids and deduplication are set where a job is added.
 */

/**
 * Scans. Scan jobs are kept a week after they finish, which is what makes a late replica's add of
 * the same cron tick a no-op (see schedule.ts).
 */
export const SCAN_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential' as const, delay: 10_000 },
  removeOnComplete: { age: 7 * 86_400, count: 2000 },
  removeOnFail: { age: 30 * 86_400 },
};

/** Rotations: kept 90 days, so the dashboard keeps each rotation's history. */
export const ROTATE_JOB_OPTIONS = {
  attempts: 8,
  // 30 s, 1 min, 2 min … about an hour in all; each attempt resumes from the last saved step.
  backoff: { type: 'exponential' as const, delay: 30_000 },
  removeOnComplete: { age: 90 * 86_400 },
  removeOnFail: { age: 90 * 86_400 },
};

/** Retirement (deactivate, then archive): 1 min, 2 min … about 8.5 hours in all; kept 90 days. */
export const RETIRE_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential' as const, delay: 60_000 },
  removeOnComplete: { age: 90 * 86_400 },
  removeOnFail: { age: 90 * 86_400 },
};

/** Notification delivery retries: ~1 s, 2 s, 4 s … capped by attempts (about 1.5 hours in all). */
export const NOTIFY_JOB_OPTIONS = {
  attempts: 13,
  backoff: { type: 'exponential' as const, delay: 1000 },
  removeOnComplete: { age: 7 * 86_400, count: 5000 },
  removeOnFail: { age: 30 * 86_400 },
};
