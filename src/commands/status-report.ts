import { DAY_MS } from '../clock.js';
import { pendingRetirements } from '../jobs/core/retire-facts.js';
import type { Config } from '../config/types.js';
import { QUEUE_NAMES, type QueueName } from '../jobs/queues/job-data.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import { TERMINAL_STEPS } from '../jobs/core/rotation-types.js';
import type { CredentialState } from '../model.js';
import { readIdentityHealth, type IdentityHealthEntry } from '../daemon/identity-health.js';
import { checkEvictionPolicy } from '../redis/connection.js';
import type { RedisParts } from '../parts/redis.js';
import { scanIntervalMs } from './scan-interval.js';
import { cliCommand } from '../cli-name.js';
import { formatDuration } from '../notify/format-time.js';

/**
 * What `status` reports, gathered from Redis (no Dfns call, no store read), and the pure rules
 * that turn it into problems and an exit code for cron checks.
 */
export type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>;

export interface StatusReport {
  at: number;
  redis: { where: string; evictionPolicy: string | null; evictionProblem: string | null };
  scan: {
    schedule: string;
    intervalMs: number;
    /** Older than this, the scan is stale: 2 × the longest gap between scheduled runs. */
    staleAfterMs: number;
    lastFinishedAt: number | null;
    total: number | null;
    counts: Record<CredentialState, number> | null;
    rotationsQueued: number | null;
    identityErrors: { identity: string; message: string }[];
    /** Store secrets the last scan could not read. */
    damagedSecrets: string[];
  };
  queues: Record<QueueName, QueueCounts>;
  /** Queues paused (bull-board's pause, or BullMQ's): nothing on them runs until resumed. */
  pausedQueues: QueueName[];
  rotations: {
    inFlight: Pick<RotationRecord, 'rotationId' | 'secretName' | 'step' | 'updatedAt' | 'requestedBy'>[];
    awaitingRetire: number;
    /** Old credentials still signing at the maximum overlap: a person decides (`dfns-rotator retire`). */
    heldRetirements: { rotationId: string; secretName: string; credential: string; lastUseAt: number | null }[];
    /** Failed or rolled back in the last 24 h, and rotate jobs that failed for good (stuck, or refused at planning). */
    recentFailures: { rotationId: string | null; secretName: string | null; step: string; error: string; at: number }[];
  };
  /** Notifications not yet delivered (waiting, delayed or being sent). */
  notifyBacklog: number;
  /** Each Dfns identity as the daemon last found it (degraded ones are being retried). */
  identities: IdentityHealthEntry[];
  problems: string[];
}

export const FAILURE_WINDOW_MS = DAY_MS;
/** Rotation records read for in-flight and failures: a day of a very busy org. */
const RECENT_ROTATIONS = 2000;
const RECENT_FAILED_JOBS = 200;

const isInFlight = (r: RotationRecord) => !TERMINAL_STEPS.has(r.step) && r.step !== 'retire-scheduled' && r.step !== 'deactivated';

export async function gatherStatus(parts: RedisParts, config: Pick<Config, 'schedule' | 'redis'>, now: number): Promise<StatusReport> {
  const intervalMs = scanIntervalMs(config.schedule.scan, config.schedule.timezone);
  const [eviction, stored, lastSuccessAt, records, failedJobs, identities] = await Promise.all([
    checkEvictionPolicy(parts.redis),
    parts.results.summary(),
    parts.results.lastSuccessAt(),
    parts.rotations.recent(RECENT_ROTATIONS),
    parts.queues.rotate.getFailed(0, RECENT_FAILED_JOBS - 1),
    readIdentityHealth(parts.redis, config.redis.prefix),
  ]);
  const queues = {} as Record<QueueName, QueueCounts>;
  const pausedQueues: QueueName[] = [];
  for (const name of QUEUE_NAMES) {
    if (await parts.queues[name].isPaused()) pausedQueues.push(name);
    const c = await parts.queues[name].getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
    queues[name] = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0 };
  }
  const since = now - FAILURE_WINDOW_MS;
  const recentFailures: StatusReport['rotations']['recentFailures'] = records
    .filter((r) => (r.step === 'failed' || r.step === 'rolled-back') && r.updatedAt >= since)
    .map((r) => ({ rotationId: r.rotationId, secretName: r.secretName, step: r.step, error: r.error?.message ?? 'unknown error', at: r.updatedAt }));
  for (const job of failedJobs) {
    if (!job || (job.finishedOn ?? 0) < since) continue;
    const data = job.data as { rotationId?: string; credential?: string };
    recentFailures.push({ rotationId: data.rotationId ?? null, secretName: data.credential ?? null, step: 'job failed', error: job.failedReason || 'unknown error', at: job.finishedOn ?? 0 });
  }
  recentFailures.sort((a, b) => b.at - a.at);
  const summary = stored;
  const report: StatusReport = {
    at: now,
    redis: { where: parts.where, evictionPolicy: eviction.policy, evictionProblem: eviction.ok ? null : eviction.message },
    scan: {
      schedule: config.schedule.scan,
      intervalMs,
      staleAfterMs: 2 * intervalMs,
      lastFinishedAt: lastSuccessAt,
      total: summary?.total ?? null,
      counts: summary?.counts ?? null,
      rotationsQueued: summary?.rotationsQueued ?? null,
      identityErrors: summary?.errors ?? [],
      damagedSecrets: (summary?.damaged ?? []).map((d) => d.secretName),
    },
    queues,
    pausedQueues,
    rotations: {
      inFlight: records.filter(isInFlight).map(({ rotationId, secretName, step, updatedAt, requestedBy }) => ({ rotationId, secretName, step, updatedAt, requestedBy })),
      awaitingRetire: records.filter((r) => r.step === 'retire-scheduled' || r.step === 'deactivated').length,
      heldRetirements: pendingRetirements(records)
        .filter((p) => p.usage === 'held')
        .map((p) => ({ rotationId: p.rotationId, secretName: p.secretName, credential: `${p.kind === 'service-account' ? 'sa' : 'pat'}:${p.credentialId}`, lastUseAt: p.lastUseAt })),
      recentFailures,
    },
    notifyBacklog: queues.notify.waiting + queues.notify.delayed + queues.notify.active,
    identities,
    problems: [],
  };
  return { ...report, problems: statusProblems(report) };
}

/** Why `status` exits 1; empty when healthy. */
export function statusProblems(report: Omit<StatusReport, 'problems'>): string[] {
  const problems: string[] = [];
  const { scan } = report;
  if (scan.lastFinishedAt === null) {
    problems.push('no scan has finished yet: is the daemon running?');
  } else if (report.at - scan.lastFinishedAt > scan.staleAfterMs) {
    problems.push(`the last scan finished ${formatDuration(report.at - scan.lastFinishedAt)} ago, more than twice the scan interval (${formatDuration(scan.intervalMs)}, schedule "${scan.schedule}"): is the daemon running?`);
  }
  if (scan.damagedSecrets.length > 0) {
    problems.push(`unreadable secret${scan.damagedSecrets.length === 1 ? '' : 's'} in the store: ${scan.damagedSecrets.join(', ')}; not rotated until repaired (the inventory and \`${cliCommand('plan')}\` say how)`);
  }
  if (report.pausedQueues.length > 0) {
    problems.push(`queue${report.pausedQueues.length === 1 ? '' : 's'} paused: ${report.pausedQueues.join(', ')}; nothing on ${report.pausedQueues.length === 1 ? 'it' : 'them'} runs until resumed (dashboard: the queue's Resume button)`);
  }
  const failures = report.rotations.recentFailures.length;
  if (failures > 0) problems.push(`${failures} rotation${failures === 1 ? '' : 's'} failed in the last 24 hours (see \`${cliCommand('history')}\`)`);
  for (const h of report.rotations.heldRetirements) {
    problems.push(`the old credential ${h.credential} of ${h.secretName} still signs actions at the maximum overlap: move its consumers, then \`${cliCommand('retire', h.rotationId, '--force', '--reason', 'its consumers have moved')}\` (or --extend HOURS)`);
  }
  // Only a policy read and found wrong: managed Redis that hides INFO would otherwise fail every check.
  if (report.redis.evictionPolicy !== null && report.redis.evictionProblem) problems.push(report.redis.evictionProblem);
  for (const id of report.identities ?? []) {
    if (id.state !== 'ok') problems.push(`Dfns identity ${id.identity} is ${id.state} since ${new Date(id.at).toISOString()}: ${id.detail}${id.state === 'degraded' ? ' (the daemon retries it in the background)' : ''}`);
  }
  return problems;
}

