import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Clock, Sleep } from '../clock.js';
import type { CredentialPolicy, PolicySubject } from '../config/policy.js';
import type { Config } from '../config/types.js';
import type { KeySource } from '../dfns/key-pool.js';
import { describeError, errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { versionWithStage } from '../secrets/stages.js';
import type { SecretStore } from '../secrets/types.js';
import type { AuditLog } from './state/audit.js';
import { ulid } from './queues/ids.js';
import { toJobOutcome } from './core/job-outcome.js';
import type { Identities } from './identities/identities.js';
import { describeIssues, rotateJobSchema } from './queues/job-data.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { runEffect } from './effects/rotation-effects.js';
import { applyEvent, isInFlight, isTerminal, nextEffect } from './core/rotation-machine.js';
import { runSteps, saveStep, type StepNote } from './effects/step-runner.js';
import { rotationFailedNotice, rotationParkedNotice } from './core/rotation-notices.js';
import { adoptOrphanedPending } from './pending-adoption.js';
import { policyOfRotation } from './core/rotation-policy.js';
import { planRotation, resolveSecretName, type PlanDeps } from './effects/rotation-plan.js';
import type { RotationStore } from './state/rotation-store.js';
import type { RotationRecord } from './core/rotation-types.js';

export interface RotateDeps {
  store: SecretStore;
  identities: Identities;
  rotations: RotationStore;
  retireQueue: Pick<Queue, 'add'>;
  /** To see whether another job is already driving a secret's rotation. */
  rotateQueue: Pick<Queue, 'getJob'>;
  notify: NotifyEnqueuer;
  audit: AuditLog;
  metrics: Metrics;
  policyFor: (subject: PolicySubject) => CredentialPolicy;
  /** What the last scan saw of a credential (its permission), so planning need not ask Dfns. */
  observation?: PlanDeps['observation'];
  config: Pick<Config, 'rotation' | 'dfns'>;
  /** Fresh key pairs for staging (generated ahead where that helps). */
  keys?: KeySource;
  /** Stops the scan from retrying a secret whose rotation failed for good, for a while. */
  setCooldown: (secretName: string) => Promise<void>;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
  actor: string;
  /** Test seams for crash tests: after every saved step, and after Dfns answered a create. */
  hooks?: { afterStep?: (r: RotationRecord) => Promise<void> | void; afterCreateAnswered?: (r: RotationRecord) => Promise<void> | void };
}

export interface RotateResult {
  rotationId: string;
  secretName: string;
  /** `joined`: another job is running this secret's rotation; `skipped`: the secret was rotated after this request. */
  step: RotationRecord['step'] | 'joined' | 'skipped';
  newCredentialId?: string;
  error?: string;
}

/**
 * The `rotate` job: resolves the credential, joins (or starts) the secret's one live rotation,
 * and runs the protocol step by step, saving the record after each. A job killed anywhere
 * resumes on its next attempt (or the next trigger) from the last saved step.
 */
export function createRotateProcessor(deps: RotateDeps) {
  return async (job: Job): Promise<RotateResult> => {
    const parsed = rotateJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid rotate job data: ${describeIssues(parsed.error)}`);
    const data = parsed.data;
    let secretName: string;
    try {
      secretName = await resolveSecretName(deps.store, data.credential);
    } catch (err) {
      if (toJobOutcome(err) === 'unrecoverable') throw new UnrecoverableError(describeError(err));
      throw err;
    }
    // A dashboard job carries no rotation id: mint one and keep it on the job, so retries reuse it.
    let rotationId = data.rotationId ?? (job.data as { rotationId?: string }).rotationId ?? ulid(deps.clock.now());
    if (!data.rotationId) await job.updateData({ ...data, rotationId });

    const requestedAt = data.requestedAt ?? job.timestamp;
    const joined = await joinOrStart(deps, secretName, rotationId, String(job.id), { ...data, requestedAt });
    if (joined.kind === 'joined') {
      deps.logger.info({ secretName, rotationId: joined.holder, requested: rotationId }, 'another job is running this secret\'s rotation; this request joins it');
      return { rotationId: joined.holder, secretName, step: 'joined' };
    }
    if (joined.kind === 'skipped') {
      deps.logger.info({ secretName, rotationId, rotatedAt: joined.rotatedAt }, 'the secret was rotated after this request was made; nothing to do');
      return { rotationId, secretName, step: 'skipped' };
    }
    let record = joined.record;
    rotationId = record.rotationId;
    if (record.step === 'parked') {
      if (!data.resume) {
        deps.logger.info({ rotationId, secretName }, 'rotation is parked for policy approval; re-trigger with resume to continue');
        return { rotationId, secretName, step: 'parked' };
      }
      record = await save(deps, applyEvent(record, { type: 'resumed' }, deps.clock.now()), 'resumed', 'info');
    }

    const policy = policyOfRotation(record, deps.policyFor);
    const effectDeps = {
      store: deps.store, identities: deps.identities, retireQueue: deps.retireQueue, notify: deps.notify, config: deps.config,
      policy, clock: deps.clock, sleep: deps.sleep, logger: deps.logger, ...(deps.keys ? { keys: deps.keys } : {}),
      ...(deps.hooks?.afterCreateAnswered ? { afterCreateAnswered: deps.hooks.afterCreateAnswered } : {}),
    };
    let resumed = true;
    const ran = await runSteps(deps, record, {
      next: (r) => {
        const effect = nextEffect(r, { resumed });
        resumed = false;
        return effect;
      },
      run: (r, effect) => runEffect(effectDeps, r, effect),
      onError: (r, err) => onThrown(deps, job, r, err),
      job,
    });
    record = ran.record;
    return finish(deps, record);
  };
}

type Joined = { kind: 'record'; record: RotationRecord } | { kind: 'joined'; holder: string } | { kind: 'skipped'; rotatedAt: number };

const RUNNING_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * At most one rotation per secret. If another rotation of the secret is alive and its own job is
 * still queued or running, this request joins it (nothing to do here). If that job is gone
 * (failed for good, or parked and completed), this job resumes the rotation. A new rotation is
 * planned only if the secret was not rotated after this request was made (two triggers at once
 * must not rotate twice).
 */
async function joinOrStart(
  deps: RotateDeps,
  secretName: string,
  rotationId: string,
  jobId: string,
  data: { reason: string; requestedBy?: string | undefined; strategy?: 'replace' | 'rekey' | undefined; requestedAt: number },
): Promise<Joined> {
  // The store first: a pending version whose rotation record Redis lost is adopted (and claimed
  // for this job) before anything new is planned for the secret.
  await adoptOrphanedPending(deps, secretName, jobId);
  for (let tries = 0; tries < 3; tries++) {
    const claim = await deps.rotations.claimActive(secretName, rotationId, jobId);
    const holder = claim.rotationId;
    const existing = await deps.rotations.get(holder);
    if (holder !== rotationId) {
      const holderJob = claim.jobId === jobId ? undefined : await deps.rotateQueue.getJob(claim.jobId);
      const holderRunning = holderJob ? RUNNING_JOB_STATES.has(await holderJob.getState()) : false;
      const finished = existing !== null && !isInFlight(existing);
      // A holder still planning has no record yet: its job, still running, says it is alive.
      if (!finished && holderRunning) return { kind: 'joined', holder };
      if (existing === null || finished) {
        await deps.rotations.releaseActive(secretName, holder); // a finished or lost rotation: free the secret
        continue;
      }
      deps.logger.info({ secretName, rotationId: holder, requested: rotationId }, 'resuming the unfinished rotation of this secret');
      return { kind: 'record', record: existing };
    }
    if (existing) return { kind: 'record', record: existing }; // our own (a retried or restarted job)
    const secret = await deps.store.get(secretName);
    const current = secret ? versionWithStage(secret.versions, 'current')?.metadata : undefined;
    // An adopted version counts from its adoption: a request older than that asked about the credential it replaced.
    const rotatedAt = current?.rotatedAt ?? current?.adoptedAt ?? 0;
    if (rotatedAt > data.requestedAt) {
      await deps.rotations.releaseActive(secretName, rotationId);
      return { kind: 'skipped', rotatedAt };
    }
    try {
      const { record } = await planRotation(deps, { secretName, rotationId, reason: data.reason, requestedBy: data.requestedBy ?? 'unknown', ...(data.strategy ? { strategy: data.strategy } : {}), now: deps.clock.now() });
      return { kind: 'record', record: await save(deps, record, 'planned', 'ok', `${record.strategy} of ${record.old.credentialId} (${record.old.name}): ${record.reason}`) };
    } catch (err) {
      await deps.rotations.releaseActive(secretName, rotationId);
      if (toJobOutcome(err) !== 'retry') {
        await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action: 'plan', outcome: 'failed', rotationId, secretName, detail: describeError(err) });
        await deps.setCooldown(secretName);
        throw new UnrecoverableError(`cannot rotate "${secretName}": ${describeError(err)}`);
      }
      throw err;
    }
  }
  throw new Error(`could not claim the rotation of "${secretName}": it keeps changing hands`);
}

function save(deps: RotateDeps, record: RotationRecord, action: string, outcome: StepNote['outcome'], detail?: string): Promise<RotationRecord> {
  return saveStep(deps, record, { action, outcome, ...(detail ? { detail } : {}) });
}

async function finish(deps: RotateDeps, record: RotationRecord): Promise<RotateResult> {
  const base = { rotationId: record.rotationId, secretName: record.secretName, step: record.step };
  switch (record.step) {
    case 'retire-scheduled':
      await deps.rotations.releaseActive(record.secretName, record.rotationId);
      deps.metrics.rotationFinished('succeeded', record.kind, record.strategy);
      deps.logger.info({ rotationId: record.rotationId, secretName: record.secretName, newCredentialId: record.created?.credentialId, retireAt: record.retireAt }, 'rotation succeeded');
      return { ...base, newCredentialId: record.created!.credentialId };
    case 'parked':
      await deps.notify.enqueue(rotationParkedNotice(record), `rotation-parked:${record.rotationId}:${record.updatedAt}`);
      deps.metrics.rotationFinished('parked', record.kind, record.strategy);
      return base;
    case 'rolled-back':
    case 'failed':
      await deps.rotations.releaseActive(record.secretName, record.rotationId);
      await deps.setCooldown(record.secretName);
      await deps.notify.enqueue(rotationFailedNotice(record), `rotation-failed:${record.rotationId}`);
      deps.metrics.rotationFinished(record.step === 'failed' ? 'failed' : 'rolled-back', record.kind, record.strategy);
      deps.logger.warn({ rotationId: record.rotationId, secretName: record.secretName, error: record.error }, 'rotation failed; the current credential is untouched');
      return { ...base, error: record.error?.message ?? 'failed' };
    default:
      return base;
  }
}

/** A transient failure: BullMQ retries. On the last attempt, tell people the rotation is stuck. */
async function onThrown(deps: RotateDeps, job: Job, record: RotationRecord, err: unknown): Promise<void> {
  deps.logger.warn({ rotationId: record.rotationId, secretName: record.secretName, step: record.step, attempt: job.attemptsMade + 1, err: describeError(err) }, 'rotation step failed; it resumes on the next attempt');
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (lastAttempt && !(err instanceof UnrecoverableError)) {
    const stuck = { ...record, error: { code: errorCode(err) ?? 'ERROR', message: describeError(err), step: record.step } };
    await deps.notify.enqueue(rotationFailedNotice(stuck, { stuck: true }), `rotation-stuck:${record.rotationId}:${record.step}`).catch(() => undefined);
    await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action: 'stuck', outcome: 'failed', rotationId: record.rotationId, secretName: record.secretName, step: record.step, detail: describeError(err) }).catch(() => undefined);
  }
}

/** BullMQ's reason for a job whose worker died (lock lost) more often than `maxStalledCount` allows. */
export function isStalledFailure(err: unknown): boolean {
  return /stalled more than allowable limit/i.test(describeError(err));
}

/**
 * A rotate job failed because its workers kept dying under it: BullMQ fails it without running the
 * processor, so no attempt-exhausted alert was sent. Tell people; the rotation's record is intact
 * and the next scan resumes it (see pending-adoption.ts), as does any manual trigger.
 */
export async function onRotateJobStalled(deps: Pick<RotateDeps, 'rotations' | 'notify' | 'audit' | 'clock' | 'actor' | 'logger'>, job: Pick<Job, 'id' | 'data'>): Promise<void> {
  const rotationId = (job.data as { rotationId?: unknown } | undefined)?.rotationId;
  const record = typeof rotationId === 'string' ? await deps.rotations.get(rotationId) : null;
  if (!record || isTerminal(record)) return;
  const message = `the rotate job ${String(job.id)} was interrupted more times than allowed (its worker died or lost its lock each time) and BullMQ gave up on it`;
  deps.logger.error({ rotationId: record.rotationId, secretName: record.secretName, step: record.step, jobId: job.id }, message);
  const stuck = { ...record, error: { code: 'JOB_STALLED', message, step: record.step } };
  await deps.notify.enqueue(rotationFailedNotice(stuck, { stuck: true }), `rotation-stalled:${record.rotationId}:${String(job.id)}`);
  await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action: 'stalled', outcome: 'failed', rotationId: record.rotationId, secretName: record.secretName, step: record.step, detail: message });
}
