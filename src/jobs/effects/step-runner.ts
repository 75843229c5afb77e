import type { Job } from 'bullmq';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { AuditLog } from '../state/audit.js';
import { applyEvent } from '../core/rotation-machine.js';
import { RotationConflictError, type RotationStore } from '../state/rotation-store.js';
import type { RetireUsage, RotationEffect, RotationEvent, RotationRecord } from '../core/rotation-types.js';

/**
 * The one loop that drives a rotation, for the rotate job and the retire job alike: the machine
 * names the next effect, the effect runs against the ports and answers an event, the machine
 * applies it, and the record is saved (with an audit entry) before the next effect. A crash
 * anywhere resumes from the last saved step. `saveStep` is the one way a step is saved.
 */

export interface StepDeps {
  rotations: RotationStore;
  audit: AuditLog;
  metrics: Pick<Metrics, 'rotationStep'>;
  clock: Clock;
  logger: Logger;
  actor: string;
  /** Test seam for crash tests: after every saved step. */
  hooks?: { afterStep?: (r: RotationRecord) => Promise<void> | void };
}

export interface StepNote {
  action: string;
  outcome: 'ok' | 'failed' | 'info' | 'waiting';
  detail?: string;
  /** Also logged at info (the retirement's steps; the rotate job logs its outcome when it ends). */
  log?: boolean;
}

/** What the audit log (and the log) says of a step the machine recorded. */
export function noteOf(event: RotationEvent): StepNote {
  switch (event.type) {
    case 'permanent-failure':
      return { action: event.type, outcome: 'failed', detail: event.error.message };
    case 'usage-checked':
      return { action: usageAction(event.usage), outcome: 'ok', log: true };
    case 'deactivated':
      return { action: 'deactivated old credential', outcome: 'ok', log: true };
    case 'archived':
      return { action: 'archived old credential', outcome: 'ok', log: true };
    default:
      return { action: event.type, outcome: 'ok', ...('note' in event && event.note ? { detail: event.note } : {}) };
  }
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

/**
 * Saves a step: the record, then its audit entry. With `reapply`, a conflict (another job saved
 * the record since it was read) re-reads the record and applies the same event again: the retire
 * job does so, because the rotate job may still be saving its last step (it queues the retire job
 * before recording `retire-scheduled`, so a crash can never leave a promoted rotation without a
 * retire job). Without it, the conflict is thrown: this job stops and the one that saved goes on.
 */
export async function saveStep(deps: StepDeps, record: RotationRecord, note: StepNote, reapply?: RotationEvent): Promise<RotationRecord> {
  let saved: RotationRecord | undefined;
  for (let attempt = 0; !saved; attempt++) {
    try {
      saved = await deps.rotations.save(record);
    } catch (err) {
      if (!reapply || !(err instanceof RotationConflictError) || attempt >= 5) throw err;
      const fresh = await deps.rotations.get(record.rotationId);
      if (!fresh) throw err;
      record = applyEvent(fresh, reapply, deps.clock.now());
    }
  }
  await deps.audit.record({
    at: deps.clock.now(), actor: deps.actor, action: note.action, outcome: note.outcome, rotationId: saved.rotationId, secretName: saved.secretName,
    credential: `${saved.kind === 'service-account' ? 'sa' : 'pat'}:${saved.old.credentialId}`, step: saved.step, ...(note.detail ? { detail: note.detail } : {}),
  });
  if (note.log) deps.logger.info({ rotationId: saved.rotationId, secretName: saved.secretName, step: saved.step }, note.action);
  await deps.hooks?.afterStep?.(saved);
  return saved;
}

export interface StepLoop {
  /** The machine's next effect for the record (`nextEffect` or `nextRetireEffect`). */
  next: (r: RotationRecord) => RotationEffect;
  /** Runs an effect through the ports; null: nothing this job can run. */
  run: (r: RotationRecord, effect: RotationEffect) => Promise<RotationEvent | null>;
  /** See `saveStep`: the retire job's steps are applied again to a record saved under it. */
  reapplyOnConflict?: boolean;
  /** After a step is saved: whatever the job does beside the record; true stops the loop there. */
  afterSave?: (r: RotationRecord, event: RotationEvent) => Promise<boolean | void>;
  /** Called with the last saved record when a step throws (the error is thrown on). */
  onError?: (r: RotationRecord, err: unknown) => Promise<void>;
  job?: Pick<Job, 'updateProgress'>;
}

/** Runs effects until the machine has nothing this job can do. Answers the record and the effect it stopped at. */
export async function runSteps(deps: StepDeps, record: RotationRecord, loop: StepLoop): Promise<{ record: RotationRecord; stoppedAt: RotationEffect }> {
  try {
    for (;;) {
      const effect = loop.next(record);
      if (effect.type === 'finished' || effect.type === 'wait' || effect.type === 'held') return { record, stoppedAt: effect };
      const started = deps.clock.now();
      const event = await loop.run(record, effect);
      if (!event) return { record, stoppedAt: effect };
      const next = applyEvent(record, event, deps.clock.now());
      deps.metrics.rotationStep(effect.type, (deps.clock.now() - started) / 1000);
      record = await saveStep(deps, next, noteOf(event), loop.reapplyOnConflict ? event : undefined);
      await loop.job?.updateProgress({ step: record.step }).catch(() => undefined);
      if (await loop.afterSave?.(record, event)) return { record, stoppedAt: effect };
    }
  } catch (err) {
    await loop.onError?.(record, err);
    throw err;
  }
}
