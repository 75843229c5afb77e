import { describeError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';

/** One readiness check's result; `detail` is for people (never a secret). */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

/** Check name → result, e.g. `{ redis, workers, store }`. Ready when every check is ok. */
export type ReadinessReport = Record<string, CheckResult>;

export type Readiness = () => Promise<ReadinessReport>;

export type Check = () => Promise<CheckResult> | CheckResult;

/**
 * Builds a readiness function from named checks, run in parallel, each bounded by `timeoutMs`
 * (a check that hangs, e.g. a command queued on a dead Redis connection, counts as failed) and
 * each failing on its own when it throws.
 */
export function readinessFromChecks(checks: Record<string, Check>, options: { timeoutMs?: number } = {}): Readiness {
  const timeoutMs = options.timeoutMs ?? 1_000;
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await bounded(check, timeoutMs)] as const),
    );
    return Object.fromEntries(entries);
  };
}

/**
 * Redis answers PING. A client that is not connected fails at once: ioredis would otherwise
 * queue the PING until it reconnects (BullMQ's clients retry forever).
 */
export async function pingRedis(client: RedisClient, timeoutMs = 1_000): Promise<CheckResult> {
  if (client.status !== 'ready') return { ok: false, detail: `redis connection is ${client.status}` };
  return bounded(async () => {
    const answer = await client.ping();
    return answer === 'PONG' ? { ok: true } : { ok: false, detail: `unexpected PING answer ${String(answer).slice(0, 40)}` };
  }, timeoutMs);
}

/** Every BullMQ worker is running (not closed, not paused). */
export function workersRunning(workers: readonly { name: string; isRunning(): boolean; isPaused(): boolean }[]): CheckResult {
  if (workers.length === 0) return { ok: false, detail: 'no worker started' };
  const stopped = workers.filter((w) => !w.isRunning() || w.isPaused()).map((w) => w.name);
  return stopped.length === 0 ? { ok: true, detail: `${workers.length} running` } : { ok: false, detail: `not running: ${stopped.join(', ')}` };
}

/**
 * Paused queues (bull-board's Pause, BullMQ's `queue.pause()`), named in the details. Still
 * `ok`: failing readiness would take the replica out of the load balancer, and with it the
 * dashboard where the queue is resumed. `status` exits 1 and `dfns_rotator_queue_paused` is 1.
 */
export async function queuesPaused(queues: readonly { name: string; isPaused(): Promise<boolean> }[]): Promise<CheckResult> {
  const paused = (await Promise.all(queues.map(async (q) => ((await q.isPaused()) ? q.name : null)))).filter((n): n is string => n !== null);
  return paused.length === 0 ? { ok: true, detail: 'none paused' } : { ok: true, detail: `paused: ${paused.join(', ')} (nothing on them runs until resumed)` };
}

async function bounded(check: Check, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (err) {
    return { ok: false, detail: describeError(err).slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}
