import { userInfo } from 'node:os';
import { Job } from 'bullmq';
import { systemClock } from '../clock.js';
import { jobIds, ulid } from '../jobs/queues/ids.js';
import { rotateJobSchema } from '../jobs/queues/job-data.js';
import { enqueueRotation } from '../jobs/queues/rotate-queue.js';
import { resolveSecretName, RotationPlanError } from '../jobs/effects/rotation-plan.js';
import { rotationInFlight } from '../jobs/state/rotation-store.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import { loadCommandConfig, parseFlagsAndPositionals, usageError } from './args.js';
import { openStoreReadOnly } from '../parts/store.js';
import { connectRedisParts, type RedisParts } from '../parts/redis.js';
import { followRotation, openEvents, type RotateEvents } from './rotate-follow.js';
import type { Command, CommandContext, ExitCode } from './types.js';
import { cliCommand } from '../cli-name.js';

const USAGE = `npx dfns-rotator rotate <credential> --reason TEXT [--strategy replace|rekey] [--resume] [--wait] [--config FILE]
  <credential>       a secret name (payments/api-bot), sa:<id>, pat:<id>, or a Dfns id (us-…, to-…)
  --reason TEXT      why (at least 3 characters); it goes to the audit log and Slack
  --strategy S       replace (a new credential) or rekey (a new key, same token); default: the configured one
  --resume           continue a rotation parked for policy approval, once approved in Dfns
  --wait             print each step until the rotation finishes; exit 0 when it succeeded, 1 when it
                     failed or was parked
The daemon (\`npx dfns-rotator start\`) runs the rotation; this command queues it in Redis. At most one
rotation of a secret waits or runs at a time: asking again reports the one under way.`;

/** `cli:<os user>`, as the audit log names a person at a terminal. */
export function cliActor(env: CommandContext['env']): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER ?? env.USERNAME;
  }
  return `cli:${user || 'unknown'}`;
}

/**
 * Queues a manual rotation of one managed credential, after checking the credential resolves
 * against the store (a typo fails here, not in the worker an hour later). Prints the rotation id
 * and how to follow it; with `--wait`, follows it to the end.
 */
export const rotateCommand: Command = {
  name: 'rotate',
  usage: USAGE,
  async run(ctx) {
    const { flags, positionals } = parseFlagsAndPositionals('rotate', USAGE, ctx.argv, {
      reason: { type: 'string' },
      strategy: { type: 'string' },
      resume: { type: 'boolean' },
      wait: { type: 'boolean' },
      config: { type: 'string' },
    });
    const problems: string[] = [];
    if (positionals.length !== 1) problems.push(positionals.length === 0 ? '<credential>: name the credential to rotate' : `one credential at a time (got ${positionals.join(' ')})`);
    if (flags.strategy !== undefined && flags.strategy !== 'replace' && flags.strategy !== 'rekey') problems.push(`--strategy: "${flags.strategy}" is not replace or rekey`);
    if (flags.reason === undefined) problems.push('--reason: required (it goes to the audit log and Slack)');
    const credential = positionals[0] ?? '';
    if (problems.length === 0) {
      const checked = rotateJobSchema.safeParse({ credential, reason: flags.reason });
      if (!checked.success) for (const i of checked.error.issues) problems.push(`${i.path[0] === 'reason' ? '--reason' : '<credential>'}: ${i.message}`);
    }
    if (problems.length > 0) throw usageError('rotate', USAGE, problems);
    const reason = flags.reason!.trim();
    const strategy = flags.strategy as 'replace' | 'rekey' | undefined;
    const config = loadCommandConfig(ctx, flags.config);
    const clock = ctx.clock ?? systemClock;
    const logger = ctx.logger.child({ command: 'rotate' });

    const { store, note } = openStoreReadOnly(config, logger, clock);
    let secretName: string;
    try {
      secretName = await resolveSecretName(store, credential);
    } catch (err) {
      if (!(err instanceof RotationPlanError)) throw err;
      if (note) ctx.err(`note: ${note}`);
      ctx.err(`rotate: ${err.message}`);
      return 1;
    } finally {
      await store.close?.();
    }

    const parts = await connectRedisParts(config, { err: ctx.err, logger });
    if (!parts) return 1;
    let events: RotateEvents | undefined;
    try {
      const live = await liveRotation(parts, secretName);
      const blocker = parkedOrNothingToResume(live, secretName, flags.resume ?? false);
      if (blocker) {
        for (const line of blocker) ctx.err(line);
        return 1;
      }
      if (flags.wait) events = await openEvents(parts);
      const requestedBy = cliActor(ctx.env);
      for (let tries = 0; tries < 3; tries++) {
        const rotationId = ulid(clock.now());
        const queued = await enqueueRotation(parts.queues.rotate, {
          secretName, rotationId, reason, requestedBy,
          ...(strategy ? { strategy } : {}), ...(flags.resume ? { resume: true } : {}),
        });
        if (queued) {
          await parts.audit.record({ at: clock.now(), actor: requestedBy, action: 'requested', outcome: 'info', rotationId, secretName, detail: `${strategy ?? 'configured strategy'}${flags.resume ? ', resume' : ''}: ${reason}` });
          ctx.out(`queued rotation ${rotationId} of "${secretName}"${credential === secretName ? '' : ` (${credential})`}`);
          if (live?.step === 'parked') ctx.out(`it resumes rotation ${live.rotationId}, parked since ${new Date(live.updatedAt).toISOString()}`);
          else if (live) ctx.out(`the worker continues rotation ${live.rotationId} of this secret, stopped at step ${live.step}, rather than start another`);
          await noteIdleWorkers(ctx, parts);
          return await follow(ctx, parts, events, { jobId: jobIds.rotate(rotationId), rotationId, secretName, credential, reason });
        }
        const existing = await existingJob(parts, secretName);
        if (!existing) continue; // it finished between our add and this look-up: ask again
        const data = existing.job.data as { rotationId?: string; requestedBy?: string; reason?: string };
        const id = data.rotationId ?? '(id minted when it starts)';
        ctx.out(`a rotation of "${secretName}" is already ${existing.state}: rotation ${id}, requested by ${data.requestedBy ?? 'unknown'} (${data.reason ?? 'no reason'}); nothing new was queued`);
        return await follow(ctx, parts, events, { jobId: existing.job.id!, rotationId: data.rotationId ?? '', secretName, credential, reason });
      }
      ctx.err(`rotate: the rotation of "${secretName}" keeps changing state; try again`);
      return 1;
    } finally {
      await events?.close();
      await parts.close();
    }
  },
};

async function follow(ctx: CommandContext, parts: RedisParts, events: RotateEvents | undefined, input: Parameters<typeof followRotation>[2]): Promise<ExitCode> {
  if (!events) {
    ctx.out(input.rotationId ? `follow it: ${cliCommand('history', '--rotation', input.rotationId)}` : `follow it: ${cliCommand('history', '--secret', input.secretName)}`);
    return 0;
  }
  return followRotation(parts, events.events, input, { out: ctx.out, err: ctx.err, signal: ctx.signal });
}

/** The waiting or running job of the secret's rotation (BullMQ's deduplication key names it), or null. */
async function existingJob(parts: RedisParts, secretName: string): Promise<{ job: Job; state: string } | null> {
  const jobId = await parts.queues.rotate.getDeduplicationJobId(jobIds.rotateDedupe(secretName));
  if (!jobId) return null;
  const job = await Job.fromId(parts.queues.rotate, jobId);
  if (!job) return null;
  const state = await job.getState();
  if (state === 'completed' || state === 'failed' || state === 'unknown') return null;
  return { job, state: state === 'active' ? 'running' : state === 'delayed' ? 'waiting to retry' : 'waiting' };
}

/** The secret's rotation that is not finished (running, stuck mid-way or parked): a new request joins it. */
function liveRotation(parts: RedisParts, secretName: string): Promise<RotationRecord | null> {
  return rotationInFlight(parts.rotations, secretName);
}

/** Lines explaining why nothing is queued: the secret's rotation is parked (and no --resume), or --resume has nothing to resume. */
function parkedOrNothingToResume(live: RotationRecord | null, secretName: string, resume: boolean): string[] | null {
  if (live?.step === 'parked' && !resume) {
    return [
      `rotation ${live.rotationId} of "${secretName}" is parked: a Dfns policy holds its create for approval${live.approvalId ? ` (approval ${live.approvalId})` : ''}`,
      `once it is approved in Dfns, run: ${cliCommand('rotate', secretName, '--resume', '--reason', 'approved')} (nothing was queued)`,
    ];
  }
  if (resume && live?.step !== 'parked') {
    return [`--resume: no rotation of "${secretName}" is parked for approval; drop --resume to start a new one. Nothing was queued`];
  }
  return null;
}

/** A queued job waits for a daemon; say so when none listens (CLIENT LIST may be disabled on managed Redis: then stay quiet). */
async function noteIdleWorkers(ctx: CommandContext, parts: RedisParts): Promise<void> {
  const count = await parts.queues.rotate.getWorkersCount().catch(() => null);
  if (count === 0) ctx.err('note: no worker is connected to the rotate queue: the rotation starts when the daemon (`' + cliCommand('start') + '`) runs');
}
