import type { Queue } from 'bullmq';
import { RotatorError } from '../errors.js';
import type { AuditLog } from './state/audit.js';
import { jobIds } from './queues/ids.js';
import { RETIRE_JOB_OPTIONS } from './queues/job-options.js';
import { applyEvent } from './core/rotation-machine.js';
import { RotationConflictError, type RotationStore } from './state/rotation-store.js';
import type { RetireUsage, RotationEvent, RotationRecord } from './core/rotation-types.js';

/**
 * A person's decision about an old credential the usage check keeps alive (`dfns-rotator retire`):
 * `force` retires it now whatever the audit log shows; `extendHours` gives consumers that long
 * again, after which the check runs once more (and holds it again if it is still in use).
 */
export class RetireOverrideError extends RotatorError {
  constructor(message: string) {
    super('RETIRE_OVERRIDE', message);
  }
}

export interface RetireOverrideDeps {
  rotations: RotationStore;
  retireQueue: Pick<Queue, 'add' | 'getJob'>;
  audit: Pick<AuditLog, 'record'>;
}

export type RetireOverride = { kind: 'force' } | { kind: 'extend'; hours: number };

export async function overrideRetire(
  deps: RetireOverrideDeps,
  rotationId: string,
  override: RetireOverride,
  who: { actor: string; reason: string; now: number },
): Promise<RotationRecord> {
  for (let attempt = 0; ; attempt++) {
    const record = await deps.rotations.get(rotationId);
    if (!record) throw new RetireOverrideError(`rotation ${rotationId} is unknown (see \`npx dfns-rotator history\`)`);
    if (record.promotedAt === null || !['promoted', 'announced', 'retire-scheduled'].includes(record.step)) {
      throw new RetireOverrideError(
        record.promotedAt === null
          ? `rotation ${rotationId} is at step ${record.step}: its replacement was never promoted, so nothing may be retired`
          : `rotation ${rotationId} is at step ${record.step}: its old credential is already retired`,
      );
    }
    const usage: RetireUsage = {
      status: override.kind === 'force' ? 'forced' : 'in-use',
      checkedAt: who.now,
      checkedUntil: record.usage?.checkedUntil ?? null,
      lastUseAt: record.usage?.lastUseAt ?? null,
      postponements: record.usage?.postponements ?? 0,
      note: `${override.kind === 'force' ? 'forced' : `extended ${override.hours} h`} by ${who.actor}: ${who.reason}`,
    };
    const retireAt = override.kind === 'force' ? who.now : who.now + override.hours * 3_600_000;
    const event: RotationEvent = { type: 'usage-checked', usage, retireAt };
    let saved: RotationRecord;
    try {
      saved = await deps.rotations.save(applyEvent(record, event, who.now));
    } catch (err) {
      if (err instanceof RotationConflictError && attempt < 5) continue;
      throw err;
    }
    await deps.audit.record({
      at: who.now,
      actor: who.actor,
      action: override.kind === 'force' ? 'retire forced' : 'retire extended',
      outcome: 'info',
      rotationId,
      secretName: saved.secretName,
      credential: `${saved.kind === 'service-account' ? 'sa' : 'pat'}:${saved.old.credentialId}`,
      detail: usage.note!,
    });
    await scheduleRetireJob(deps, saved, retireAt - who.now);
    return saved;
  }
}

/** The postponed job is moved up (or down); a finished one (held) is followed by a new one. */
async function scheduleRetireJob(deps: RetireOverrideDeps, r: RotationRecord, delayMs: number): Promise<void> {
  const existing = await deps.retireQueue.getJob(jobIds.retire(r.rotationId, 'deactivate'));
  const state = existing ? await existing.getState() : null;
  if (existing && state === 'delayed') {
    if (delayMs <= 0) await existing.promote();
    else await existing.changeDelay(delayMs);
    return;
  }
  if (existing && (state === 'waiting' || state === 'active' || state === 'prioritized')) return;
  await deps.retireQueue.add('retire', { rotationId: r.rotationId, phase: 'deactivate' }, {
    jobId: `${jobIds.retire(r.rotationId, 'deactivate')}_override_${r.revision}`,
    delay: Math.max(0, delayMs),
    ...RETIRE_JOB_OPTIONS,
  });
}
