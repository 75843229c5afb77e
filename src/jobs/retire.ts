import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Clock, Sleep } from '../clock.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../logger.js';
import { dropVersion, versionById, versionWithStage } from '../secrets/stages.js';
import type { SecretStore } from '../secrets/types.js';
import type { AuditLog } from './state/audit.js';
import { jobIds } from './queues/ids.js';
import { RETIRE_JOB_OPTIONS } from './queues/job-options.js';
import type { Identities } from './identities/identities.js';
import { describeIssues, retireJobSchema } from './queues/job-data.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { deactivateIfActive, ignoreGone } from './effects/effect-context.js';
import { applyEvent, nextRetireEffect } from './core/rotation-machine.js';
import { rotationCredential } from './core/rotation-notices.js';
import { RotationConflictError, type RotationStore } from './state/rotation-store.js';
import type { RetireUsage, RotationEvent, RotationRecord } from './core/rotation-types.js';
import { checkRetireUsage } from './effects/retire-usage.js';
import { updateSecret } from './effects/secret-writes.js';

export interface RetireDeps {
  store: Pick<SecretStore, 'get' | 'put'>;
  identities: Identities;
  rotations: RotationStore;
  retireQueue: Pick<Queue, 'add'>;
  notify: NotifyEnqueuer;
  audit: AuditLog;
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
 * before its successor is proven and stored.
 */
export function createRetireProcessor(deps: RetireDeps) {
  const archiveAfterMs = deps.config.rotation.archiveAfterHours * 3_600_000;
  return async (job: Job, token?: string): Promise<{ rotationId: string; step: string }> => {
    const parsed = retireJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid retire job data: ${describeIssues(parsed.error)}`);
    let record = await deps.rotations.get(parsed.data.rotationId);
    if (!record) throw new UnrecoverableError(`rotation ${parsed.data.rotationId} is unknown (its record expired or never existed): nothing is retired`);

    for (;;) {
      const effect = nextRetireEffect(record, deps.clock.now(), archiveAfterMs);
      if (effect.type === 'finished' || effect.type === 'held') return { rotationId: record.rotationId, step: record.step };
      if (effect.type === 'wait') {
        if (record.promotedAt === null) throw new UnrecoverableError(`refusing to retire: ${effect.why}`);
        const due = record.step === 'deactivated' ? (record.deactivatedAt ?? 0) + archiveAfterMs : (record.retireAt ?? 0);
        // A job that ran early (clock skew between daemons): put it back until it is due.
        await job.moveToDelayed(Date.now() + Math.max(1000, due - deps.clock.now()), token);
        throw new DelayedError();
      }
      if (effect.type === 'deactivate-old') {
        if (record.usage?.status !== 'forced') {
          const decision = await checkRetireUsage(deps, record);
          const checked = applyEvent(record, decision.event, deps.clock.now());
          // Alert before saving: a crash in between repeats the same decision, and the alert's
          // dedupe key makes the second one a no-op; the other order could lose it.
          if (decision.alert) await notifyStillInUse(deps, checked, decision.alert);
          record = await save(deps, checked, usageAction(decision.event.usage), decision.event);
          if (!decision.retire) continue;
        }
        await deactivateOld(deps, record);
        const deactivated: RotationEvent = { type: 'deactivated', at: deps.clock.now() };
        record = await save(deps, applyEvent(record, deactivated, deps.clock.now()), 'deactivated old credential', deactivated);
        await deps.notify.enqueue({ type: 'credential-retired', rotationId: record.rotationId, credential: rotationCredential(record), outcome: 'deactivated' }, `retired:${record.rotationId}:deactivated`);
        await deps.retireQueue.add('retire', { rotationId: record.rotationId, phase: 'archive' }, {
          jobId: jobIds.retire(record.rotationId, 'archive'),
          delay: archiveAfterMs,
          ...RETIRE_JOB_OPTIONS,
        });
        if (parsed.data.phase === 'deactivate') return { rotationId: record.rotationId, step: record.step };
        continue;
      }
      if (effect.type === 'archive-old') {
        await archiveOld(deps, record);
        record = await save(deps, applyEvent(record, { type: 'archived' }, deps.clock.now()), 'archived old credential', { type: 'archived' });
        continue;
      }
    }
  };
}

function usageAction(u: RetireUsage): string {
  switch (u.status) {
    case 'in-use': return 'retire postponed: the old credential still signs actions';
    case 'held': return 'retire held: the old credential still signs actions at the maximum overlap';
    case 'unused': return u.note ? `usage ${u.note}` : 'usage checked: the old credential signed nothing since promotion';
    case 'not-visible': return 'usage not visible: retiring after the overlap alone';
    case 'forced': return 'retire forced';
    case 'off': return 'usage check off';
  }
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

async function deactivateOld(deps: RetireDeps, r: RotationRecord): Promise<void> {
  if (r.strategy === 'rekey') {
    // The secret's current version holds the new key, which Dfns accepts for this credential now.
    const secret = await deps.store.get(r.secretName);
    const current = secret && versionWithStage(secret.versions, 'current');
    if (!current) throw new UnrecoverableError(`secret "${r.secretName}" has no current version`);
    const port = deps.identities.asSecret(current.value, `retire ${r.secretName}`);
    const old = (await port.listCredentials()).find((c) => c.credentialId === r.old.credId);
    if (old?.isActive) await port.deactivateCredential(old.credentialUuid);
    return;
  }
  const op = await deps.identities.operator();
  if (!op) throw new UnrecoverableError('retiring a replaced credential needs the operator identity');
  await ignoreGone(() => deactivateIfActive(op, r.kind, r.old.credentialId));
}

async function archiveOld(deps: RetireDeps, r: RotationRecord): Promise<void> {
  if (r.strategy === 'replace') {
    const op = await deps.identities.operator();
    if (!op) throw new UnrecoverableError('archiving a replaced credential needs the operator identity');
    await ignoreGone(() => (r.kind === 'service-account' ? op.archiveServiceAccount(r.old.credentialId) : op.archivePersonalAccessToken(r.old.credentialId)));
  }
  // Its key and token are dead now: keep them nowhere.
  await updateSecret(deps.store, r.secretName, (record) => {
    const old = record && versionById(record.versions, r.old.versionId);
    if (!old || old.stages.includes('current') || old.stages.includes('pending')) return null;
    return dropVersion(record!, r.old.versionId);
  }, { sleep: deps.sleep });
}

/**
 * Saves a retire step. The rotate job may still be saving its last step (it queues this job
 * before recording `retire-scheduled`, so a crash can never leave a promoted rotation without a
 * retire job): on a conflict, re-read the record and apply the same event again.
 */
async function save(deps: RetireDeps, record: RotationRecord, action: string, event: RotationEvent): Promise<RotationRecord> {
  let saved: RotationRecord | undefined;
  for (let attempt = 0; !saved; attempt++) {
    try {
      saved = await deps.rotations.save(record);
    } catch (err) {
      if (!(err instanceof RotationConflictError) || attempt >= 5) throw err;
      const fresh = await deps.rotations.get(record.rotationId);
      if (!fresh) throw err;
      record = applyEvent(fresh, event, deps.clock.now());
    }
  }
  await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action, outcome: 'ok', rotationId: saved.rotationId, secretName: saved.secretName, credential: `${saved.kind === 'service-account' ? 'sa' : 'pat'}:${saved.old.credentialId}`, step: saved.step });
  deps.logger.info({ rotationId: saved.rotationId, secretName: saved.secretName, step: saved.step }, action);
  await deps.hooks?.afterStep?.(saved);
  return saved;
}

