import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Clock, Sleep } from '../clock.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { SecretStore } from '../secrets/types.js';
import type { AuditLog } from './state/audit.js';
import { jobIds } from './queues/ids.js';
import { RETIRE_JOB_OPTIONS } from './queues/job-options.js';
import type { Identities } from './identities/identities.js';
import { describeIssues, retireJobSchema } from './queues/job-data.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { applyEvent, nextRetireEffect } from './core/rotation-machine.js';
import { rotationCredential } from './core/rotation-notices.js';
import type { RotationStore } from './state/rotation-store.js';
import type { RotationRecord } from './core/rotation-types.js';
import { checkRetireUsage } from './effects/retire-usage.js';
import { runRetireEffect } from './effects/retire-effects.js';
import { noteOf, runSteps, saveStep } from './effects/step-runner.js';

export interface RetireDeps {
  store: Pick<SecretStore, 'get' | 'put'>;
  identities: Identities;
  rotations: RotationStore;
  retireQueue: Pick<Queue, 'add'>;
  notify: NotifyEnqueuer;
  audit: AuditLog;
  metrics: Pick<Metrics, 'rotationStep'>;
  config: Pick<Config, 'rotation'>;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
  actor: string;
  hooks?: { afterStep?: (r: RotationRecord) => Promise<void> | void };
}

/**
 * The `retire` job, after the overlap window: deactivates the replaced credential, then (after
 * `archiveAfterHours`) archives it and drops its key from the store. It refuses to touch
 * anything unless the rotation's promote is recorded: the old credential is never retired
 * before its successor is proven and stored. The job loads the record, passes the usage gate
 * (retire-usage.ts, or a person's override), and runs the machine's retire steps through the
 * same loop as the rotate job (step-runner.ts; the effects are retire-effects.ts).
 */
export function createRetireProcessor(deps: RetireDeps) {
  const archiveAfterMs = deps.config.rotation.archiveAfterHours * 3_600_000;
  return async (job: Job, token?: string): Promise<{ rotationId: string; step: string }> => {
    const parsed = retireJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid retire job data: ${describeIssues(parsed.error)}`);
    let record = await deps.rotations.get(parsed.data.rotationId);
    if (!record) throw new UnrecoverableError(`rotation ${parsed.data.rotationId} is unknown (its record expired or never existed): nothing is retired`);

    // The usage gate: before the old credential is deactivated, Dfns' audit log must show it
    // unused (or unreadable), unless a person forced the retirement.
    let cleared = false;
    if (nextRetireEffect(record, deps.clock.now(), archiveAfterMs).type === 'deactivate-old') {
      if (record.usage?.status === 'forced') cleared = true;
      else {
        const decision = await checkRetireUsage(deps, record);
        // Alert before saving: a crash in between repeats the same decision, and the alert's
        // dedupe key makes the second one a no-op; the other order could lose it.
        const checked = applyEvent(record, decision.event, deps.clock.now());
        if (decision.alert) await notifyStillInUse(deps, checked, decision.alert);
        record = await saveStep(deps, checked, noteOf(decision.event), decision.event);
        cleared = decision.retire;
      }
    }

    // After `deactivated` is saved, the deactivate job announces it and queues the archive job.
    // Both are idempotent (a notify dedupe key, a job id), so a deactivate job resumed after a
    // crash between the save and these sends them now, and the archive job takes it from there.
    const handOver = async (r: RotationRecord): Promise<void> => {
      await deps.notify.enqueue({ type: 'credential-retired', rotationId: r.rotationId, credential: rotationCredential(r), outcome: 'deactivated' }, `retired:${r.rotationId}:deactivated`);
      await deps.retireQueue.add('retire', { rotationId: r.rotationId, phase: 'archive' }, {
        jobId: jobIds.retire(r.rotationId, 'archive'),
        delay: Math.max(0, (r.deactivatedAt ?? deps.clock.now()) + archiveAfterMs - deps.clock.now()),
        ...RETIRE_JOB_OPTIONS,
      });
    };
    if (parsed.data.phase === 'deactivate' && record.step === 'deactivated') {
      await handOver(record);
      return { rotationId: record.rotationId, step: record.step };
    }

    const ran = await runSteps(deps, record, {
      next: (r) => {
        const effect = nextRetireEffect(r, deps.clock.now(), archiveAfterMs);
        // Not cleared by the gate (postponed, and the new time already reached): the next run checks again.
        return effect.type === 'deactivate-old' && !cleared ? { type: 'wait', why: 'the usage check runs again first' } : effect;
      },
      run: (r, effect) => runRetireEffect(deps, r, effect),
      reapplyOnConflict: true,
      afterSave: async (r, event) => {
        if (event.type !== 'deactivated') return false;
        await handOver(r);
        return parsed.data.phase === 'deactivate'; // the archive job takes it from here
      },
    });
    record = ran.record;
    const effect = ran.stoppedAt;
    if (effect.type === 'wait') {
      if (record.promotedAt === null) throw new UnrecoverableError(`refusing to retire: ${effect.why}`);
      const due = record.step === 'deactivated' ? (record.deactivatedAt ?? 0) + archiveAfterMs : (record.retireAt ?? 0);
      // A job that ran early (clock skew between daemons): put it back until it is due.
      await job.moveToDelayed(Date.now() + Math.max(1000, due - deps.clock.now()), token);
      throw new DelayedError();
    }
    return { rotationId: record.rotationId, step: record.step };
  };
}

async function notifyStillInUse(deps: RetireDeps, r: RotationRecord, outcome: 'postponed' | 'held'): Promise<void> {
  const maxRetireAt = (r.promotedAt ?? deps.clock.now()) + deps.config.rotation.maxOverlapHours * 3_600_000;
  await deps.notify.enqueue({
    type: 'retire-postponed',
    rotationId: r.rotationId,
    credential: rotationCredential(r),
    outcome,
    lastUseAt: r.usage?.lastUseAt ?? deps.clock.now(),
    retireAt: outcome === 'postponed' ? r.retireAt : null,
    maxRetireAt,
    newCredentialId: r.created?.credentialId ?? null,
  }, `retire-${outcome}:${r.rotationId}:${r.usage?.postponements ?? 0}`);
}
