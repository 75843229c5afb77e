import type { Queue } from 'bullmq';
import { createTask, parse } from 'node-cron';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { jobIds } from './ids.js';
import { SCAN_JOB_OPTIONS } from './job-options.js';

/**
 * The scan schedule. Every daemon runs the same cron expression; each tick adds the scan with a
 * job id derived from the tick's minute, so however many replicas fire, BullMQ keeps one scan per
 * tick. Scan jobs are kept a week after they finish (SCAN_JOB_OPTIONS), which is what makes a late
 * replica's add a no-op.
 */

/**
 * `2026-11-21T10:17:00Z`: the tick a scheduled scan belongs to. node-cron hands every replica the
 * scheduled time itself (not the moment its timer fired), so replicas agree on it to the second.
 */
export function tickOf(date: Date | number): string {
  return new Date(date).toISOString().slice(0, 19) + 'Z';
}

export async function addScheduledScan(queue: Pick<Queue, 'add'>, tick: string): Promise<void> {
  await queue.add('scan', { trigger: 'schedule', tick }, { ...SCAN_JOB_OPTIONS, jobId: jobIds.scanTick(tick) });
}

/** Gaps in ms between the next `runs` runs of a cron expression (UTC unless a zone is given). */
export function cronGaps(expression: string, timezone: string | null, runs = 30): number[] {
  // node-cron computes runs only through a task; one never started sets no timer. The gaps do not
  // depend on when they are computed from, so its use of the real time is fine.
  const task = createTask(expression, () => undefined, { timezone: timezone ?? 'UTC' });
  try {
    const next = task.getNextRuns(runs).map((d) => d.getTime());
    return next.slice(1).map((t, i) => t - next[i]!);
  } finally {
    void task.destroy();
  }
}

/** The shortest gap between ticks: "the last scan is older than one interval" is judged against it. */
export function scheduleInterval(expression: string, timezone: string | null): number {
  const gaps = cronGaps(expression, timezone, 6);
  return gaps.length > 0 ? Math.min(...gaps) : 86_400_000;
}

export interface ScheduleOptions {
  expression: string;
  timezone: string | null;
  queue: Pick<Queue, 'add'>;
  logger: Logger;
}

export interface Schedule {
  /** Adds the scan for a tick, as the cron task does (tests drive ticks with it). */
  tick(at: Date): Promise<void>;
  stop(): Promise<void>;
}

export function startSchedule(options: ScheduleOptions): Schedule {
  parse(options.expression); // validated at config load; throws early if not
  const tick = async (at: Date) => {
    const t = tickOf(at);
    try {
      await addScheduledScan(options.queue, t);
      options.logger.debug({ tick: t }, 'scheduled scan queued');
    } catch (err) {
      // Redis is down: the catch-up at the next start (or the next tick) covers the missed scan.
      options.logger.warn({ tick: t, err: (err as Error).message }, 'could not queue the scheduled scan');
    }
  };
  const task = createTask(options.expression, (ctx) => tick(ctx.date), {
    name: 'dfns-rotator-scan',
    noOverlap: false,
    // Explicit, so replicas in different time zones tick together (node-cron defaults to local time).
    timezone: options.timezone ?? 'UTC',
  });
  void task.start();
  return {
    tick,
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}

/**
 * At start: if the last successful scan is older than one interval (or there was none), queue a
 * catch-up scan now. Its id names the interval it covers, so replicas starting together add one.
 */
export async function catchUpScan(options: { queue: Pick<Queue, 'add'>; lastSuccessAt: number | null; interval: number; clock: Clock; logger: Logger }): Promise<boolean> {
  const now = options.clock.now();
  if (options.lastSuccessAt !== null && now - options.lastSuccessAt <= options.interval) return false;
  const slot = Math.floor(now / options.interval) * options.interval;
  const id = `catch-up-${tickOf(slot)}`;
  await options.queue.add('scan', { trigger: 'catch-up' }, { ...SCAN_JOB_OPTIONS, jobId: jobIds.scanTick(id) });
  options.logger.info({ lastSuccessAt: options.lastSuccessAt === null ? null : new Date(options.lastSuccessAt).toISOString() }, 'last scan is older than one interval: catch-up scan queued');
  return true;
}
