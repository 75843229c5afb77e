import { Job, type QueueEvents } from 'bullmq';
import type { AuditEntry } from '../jobs/state/audit.js';
import type { RotateResult } from '../jobs/rotate.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import { openQueueEvents, type QueueEventsPart, type RedisParts } from '../parts/redis.js';
import type { ExitCode } from './types.js';
import { cliCommand } from '../cli-name.js';

/**
 * `rotate --wait`: prints each step of a rotation as the audit log records it, until its job
 * finishes, then the outcome. Event-driven, no polling: the rotate processor reports progress
 * after every saved step (each save writes its audit entry first), so each progress event means
 * "new audit entries to print"; the job's completion prints the rest.
 */
export interface FollowIo {
  out: (line: string) => void;
  err: (line: string) => void;
  signal: AbortSignal;
}

export type RotateEvents = QueueEventsPart;

/** Subscribes before the job is added, so no event of it can be missed. */
export function openEvents(parts: RedisParts): Promise<RotateEvents> {
  return openQueueEvents(parts, 'rotate');
}

const time = (at: number) => new Date(at).toISOString().slice(11, 19);

export function stepLine(e: AuditEntry): string {
  const outcome = e.outcome === 'ok' ? '' : ` (${e.outcome})`;
  return `  ${time(e.at)}Z  ${e.action}${outcome}${e.detail ? `: ${e.detail}` : ''}`;
}

export async function followRotation(
  parts: RedisParts,
  events: QueueEvents,
  input: { jobId: string; rotationId: string; secretName: string; credential: string; reason: string },
  io: FollowIo,
): Promise<ExitCode> {
  let rotationId: string | null = null;
  let printed = 0;
  let chain: Promise<void> = Promise.resolve();

  // The worker may join a rotation already under way for the secret (a stuck or parked one) instead of the one minted here.
  const resolveRotationId = async (): Promise<string> => {
    if (rotationId) return rotationId;
    if (await parts.rotations.get(input.rotationId)) return (rotationId = input.rotationId);
    const active = await parts.rotations.active(input.secretName);
    if (active && (await parts.rotations.get(active))) return (rotationId = active);
    return input.rotationId;
  };
  const flush = () => {
    chain = chain.then(async () => {
      const id = await resolveRotationId();
      const entries = (await parts.audit.read({ limit: 1000, rotationId: id })).reverse().filter((e) => e.action !== 'requested');
      for (const e of entries.slice(printed)) io.out(stepLine(e));
      printed = Math.max(printed, entries.length);
    }).catch((err: unknown) => io.err(`could not read the audit log: ${(err as Error).message}`));
    return chain;
  };
  const onProgress = ({ jobId }: { jobId: string }) => {
    if (jobId === input.jobId) void flush();
  };
  const onDelayed = ({ jobId, delay }: { jobId: string; delay: number }) => {
    if (jobId !== input.jobId) return;
    void Job.fromId(parts.queues.rotate, jobId).then((job) => {
      const why = job?.failedReason ? `: ${job.failedReason}` : '';
      io.out(`  attempt ${job?.attemptsMade ?? '?'} failed${why}; the worker tries again at ${new Date(Number(delay)).toISOString()} from the last saved step`);
    }, () => undefined);
  };
  events.on('progress', onProgress);
  events.on('delayed', onDelayed);

  const job = await Job.fromId(parts.queues.rotate, input.jobId);
  if (!job) {
    io.err(`the job ${input.jobId} is gone (finished and removed?); see \`${cliCommand('history', '--rotation', input.rotationId)}\``);
    return 1;
  }
  let aborted = false;
  const abort = new Promise<'aborted'>((resolve) => {
    if (io.signal.aborted) resolve('aborted');
    io.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    const outcome = await Promise.race([job.waitUntilFinished(events).then((r: RotateResult) => ({ ok: true as const, result: r }), (err: Error) => ({ ok: false as const, err })), abort]);
    if (outcome === 'aborted') {
      aborted = true;
      io.err(`stopped waiting; the rotation goes on in the worker: ${cliCommand('history', '--rotation', rotationId ?? input.rotationId)}`);
      return 1;
    }
    await flush();
    if (!outcome.ok) {
      io.err(`rotation job failed: ${outcome.err.message}`);
      io.err('the current credential is untouched unless the history above shows it promoted');
      return 1;
    }
    return await report(parts, outcome.result, input, io);
  } finally {
    events.off('progress', onProgress);
    events.off('delayed', onDelayed);
    if (!aborted) await chain;
  }
}

async function report(parts: RedisParts, result: RotateResult, input: { credential: string; reason: string }, io: FollowIo): Promise<ExitCode> {
  const record: RotationRecord | null = await parts.rotations.get(result.rotationId);
  switch (result.step) {
    case 'retire-scheduled': {
      const retire = record?.retireAt ? ` at ${new Date(record.retireAt).toISOString()}` : ' after the overlap window';
      io.out(`rotation ${result.rotationId} succeeded: "${result.secretName}" now holds ${result.newCredentialId ?? 'the new credential'}; the old one stays active until it is retired${retire}`);
      return 0;
    }
    case 'parked':
      io.err(`rotation ${result.rotationId} is parked: a Dfns policy holds the create for approval${record?.approvalId ? ` (approval ${record.approvalId})` : ''}`);
      io.err(`once approved in Dfns, run: ${cliCommand('rotate', input.credential, '--resume', '--reason', input.reason)}`);
      return 1;
    case 'failed':
    case 'rolled-back':
      io.err(`rotation ${result.rotationId} ${result.step === 'failed' ? 'failed' : 'failed and was rolled back'}: ${result.error ?? record?.error?.message ?? 'unknown error'}`);
      io.err(`the current credential of "${result.secretName}" is untouched and still works`);
      return 1;
    default:
      io.err(`rotation ${result.rotationId} stopped at step ${result.step}${result.error ? `: ${result.error}` : ''}`);
      return 1;
  }
}
