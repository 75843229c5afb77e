import { RotatorError } from '../../errors.js';
import {
  MAX_CREATE_ATTEMPTS,
  PROMOTED_STEPS,
  TERMINAL_STEPS,
  type RotationEffect,
  type RotationEvent,
  type RotationPolicy,
  type RotationRecord,
  type RotationStep,
} from './rotation-types.js';
import { cliCommand } from '../../cli-name.js';

/**
 * The rotation protocol of DESIGN.md as a pure state machine: `nextEffect` says what to do from
 * a record alone, `applyEvent` records what happened. No I/O, no clock, no bullmq: the
 * processors run the effects through the ports and save the record after every event, so a job
 * killed at any point resumes from the last saved step.
 *
 * Ordering guarantees encoded here:
 * - the key is in the store (`staged`) before Dfns is called;
 * - `creating` is saved before the create is sent, so a crash after Dfns answered is reconciled
 *   (by the store first, then by listing) instead of silently creating a second credential;
 * - nothing retires the old credential before `promoted`;
 * - after `promoted` nothing rolls back: the new credential is `current` and the old one still
 *   works until the overlap ends.
 */

export interface EffectContext {
  /**
   * True when this is the first effect of a job run (a resume after a crash, a retry or a restart).
   * Only then is a `creating` record ambiguous and reconciled; within a run, `create` follows
   * `begin-create` directly.
   */
  resumed: boolean;
}

/** `payments-bot` → `payments-bot-g2`; `payments-bot-g2` → `payments-bot-g3`; attempt 2 adds `-2`. */
export function replacementName(oldName: string, attempt: number): string {
  const m = /^(.*?)-g(\d+)(?:-\d+)?$/.exec(oldName);
  const base = m ? m[1]! : oldName;
  const generation = (m ? Number(m[2]) : 1) + 1;
  return `${base}-g${generation}${attempt > 1 ? `-${attempt}` : ''}`;
}

export function externalIdFor(rotationId: string, attempt: number): string {
  return `rotator:${rotationId}${attempt > 1 ? `:${attempt}` : ''}`;
}

/** The name and externalId of create attempt `attempt`. */
export function createTarget(r: Pick<RotationRecord, 'strategy' | 'old' | 'rotationId'>, attempt: number) {
  return {
    attempt,
    name: r.strategy === 'replace' ? replacementName(r.old.name, attempt) : `rotator-${r.rotationId}${attempt > 1 ? `-${attempt}` : ''}`,
    externalId: externalIdFor(r.rotationId, attempt),
  };
}

/** The next effect of the `rotate` job. */
export function nextEffect(r: RotationRecord, ctx: EffectContext): RotationEffect {
  switch (r.step) {
    case 'planned':
      return { type: 'stage' };
    case 'staged': {
      const orphan = r.orphans.find((o) => !o.cleaned);
      if (orphan) return { type: 'clean-orphan', credentialId: orphan.credentialId };
      return { type: 'begin-create', attempt: r.attempt + 1 };
    }
    case 'creating':
      return ctx.resumed ? { type: 'reconcile', ...createTarget(r, r.attempt) } : { type: 'create', ...createTarget(r, r.attempt) };
    case 'created':
      return { type: 'verify' };
    case 'verified':
      return { type: 'promote' };
    case 'promoted':
      return { type: 'announce' };
    case 'announced':
      return { type: 'schedule-retire' };
    case 'rolling-back':
      return { type: 'rollback' };
    case 'parked':
      return { type: 'wait', why: `held for policy approval${r.approvalId ? ` ${r.approvalId}` : ''}; re-trigger the rotation once it is approved or denied` };
    case 'retire-scheduled':
    case 'deactivated':
    case 'done':
    case 'rolled-back':
    case 'failed':
      return { type: 'finished' };
  }
}

/** The next effect of the `retire` job. Refuses to touch the old credential unless promote is recorded. */
export function nextRetireEffect(r: RotationRecord, now: number, archiveAfterMs: number): RotationEffect {
  if (!PROMOTED_STEPS.has(r.step) || r.promotedAt === null) {
    return { type: 'wait', why: `rotation ${r.rotationId} is at step ${r.step}, not promoted: the old credential is not retired` };
  }
  switch (r.step) {
    case 'promoted':
    case 'announced':
    case 'retire-scheduled':
      if (r.usage?.status === 'held') {
        return { type: 'held', why: `the old credential still signs actions at the maximum overlap: retire it by hand with \`${cliCommand('retire', r.rotationId, '--force', '--reason', 'its consumers have moved')}\`` };
      }
      if (r.retireAt !== null && now < r.retireAt) return { type: 'wait', why: `overlap window ends at ${new Date(r.retireAt).toISOString()}` };
      return { type: 'deactivate-old' };
    case 'deactivated':
      if (r.deactivatedAt !== null && now < r.deactivatedAt + archiveAfterMs) {
        return { type: 'wait', why: `archive due at ${new Date(r.deactivatedAt + archiveAfterMs).toISOString()}` };
      }
      return { type: 'archive-old' };
    default:
      return { type: 'finished' };
  }
}

/** An event the step does not allow: a bug, never data (BullMQ retries; the record is unchanged). */
export class RotationTransitionError extends RotatorError {
  constructor(r: RotationRecord, event: RotationEvent) {
    super('ROTATION_TRANSITION', `rotation ${r.rotationId}: event ${event.type} is not valid at step ${r.step}`);
  }
}

function expectStep(r: RotationRecord, event: RotationEvent, ...steps: RotationStep[]): void {
  if (!steps.includes(r.step)) throw new RotationTransitionError(r, event);
}

/** Records what happened. Throws `RotationTransitionError` for an event the step does not allow (a bug, never data). */
export function applyEvent(r: RotationRecord, event: RotationEvent, now: number): RotationRecord {
  const next: RotationRecord = { ...r, orphans: r.orphans.map((o) => ({ ...o })), updatedAt: now };
  switch (event.type) {
    case 'staged':
      expectStep(r, event, 'planned');
      return { ...next, step: 'staged', pendingVersionId: event.pendingVersionId };
    case 'create-begun':
      expectStep(r, event, 'staged');
      if (event.attempt > MAX_CREATE_ATTEMPTS) {
        return { ...next, step: 'rolling-back', error: { code: 'CREATE_ATTEMPTS_EXHAUSTED', message: `gave up after ${MAX_CREATE_ATTEMPTS} create attempts whose answers were lost`, step: 'creating' } };
      }
      return { ...next, step: 'creating', attempt: event.attempt, createBegunAt: r.createBegunAt ?? now };
    case 'created':
      expectStep(r, event, 'creating');
      return { ...next, step: 'created', created: { credentialId: event.credentialId, credId: event.credId, name: event.name, expiresAt: event.expiresAt, ...(event.permissionIds ? { permissionIds: event.permissionIds } : {}) } };
    case 'orphan-found':
      expectStep(r, event, 'creating');
      return {
        ...next,
        step: 'staged',
        orphans: [...next.orphans, ...event.credentialIds.filter((id) => !next.orphans.some((o) => o.credentialId === id)).map((credentialId) => ({ credentialId, cleaned: false }))],
      };
    case 'nothing-created':
      expectStep(r, event, 'creating');
      // Nothing exists under this attempt's name: send the same attempt again.
      return { ...next, step: 'staged', attempt: r.attempt - 1 };
    case 'name-taken':
      expectStep(r, event, 'creating');
      return { ...next, step: 'staged' };
    case 'orphan-cleaned':
      expectStep(r, event, 'staged', 'rolling-back');
      return { ...next, orphans: next.orphans.map((o) => (o.credentialId === event.credentialId ? { ...o, cleaned: true } : o)) };
    case 'verified':
      expectStep(r, event, 'created');
      return { ...next, step: 'verified' };
    case 'promoted':
      expectStep(r, event, 'verified');
      return { ...next, step: 'promoted', promotedAt: event.at };
    case 'announced':
      expectStep(r, event, 'promoted');
      return { ...next, step: 'announced' };
    case 'retire-scheduled':
      expectStep(r, event, 'announced');
      return { ...next, step: 'retire-scheduled', retireAt: event.retireAt };
    case 'usage-checked':
      expectStep(r, event, 'promoted', 'announced', 'retire-scheduled');
      return { ...next, usage: { ...event.usage }, ...(event.retireAt !== null ? { retireAt: event.retireAt } : {}) };
    case 'deactivated':
      expectStep(r, event, 'promoted', 'announced', 'retire-scheduled');
      return { ...next, step: 'deactivated', deactivatedAt: event.at };
    case 'archived':
      expectStep(r, event, 'deactivated');
      return { ...next, step: 'done' };
    case 'switched-to-replace':
      expectStep(r, event, 'creating');
      return { ...next, strategy: 'replace', step: 'staged', attempt: 0 };
    case 'permanent-failure': {
      if (PROMOTED_STEPS.has(r.step) || TERMINAL_STEPS.has(r.step)) throw new RotationTransitionError(r, event);
      // Before anything was staged there is nothing to undo.
      if (r.step === 'planned') return { ...next, step: 'failed', error: event.error };
      return { ...next, step: 'rolling-back', error: r.error ?? event.error };
    }
    case 'rolled-back':
      expectStep(r, event, 'rolling-back');
      return { ...next, step: 'rolled-back', pendingVersionId: null };
    case 'parked':
      expectStep(r, event, 'creating');
      return { ...next, step: 'parked', approvalId: event.approvalId };
    case 'resumed':
      expectStep(r, event, 'parked');
      // The held create may have been approved and run since: reconcile before sending it again.
      return { ...next, step: 'creating', approvalId: null };
  }
}

export function isTerminal(r: RotationRecord): boolean {
  return TERMINAL_STEPS.has(r.step);
}

/**
 * The one answer to "is a rotation of this secret in flight": from planning until its rotate job
 * has nothing left to do (its retire is scheduled, or it ended). A parked rotation is in flight: it
 * waits for a person, and a new request resumes it. While one is, no other rotation of the secret
 * starts: the worker joins or resumes it, the scan asks for none, the CLI names it.
 */
export function isInFlight(r: RotationRecord): boolean {
  return nextEffect(r, { resumed: false }).type !== 'finished';
}

export interface NewRotationInput {
  rotationId: string;
  secretName: string;
  kind: RotationRecord['kind'];
  strategy: RotationRecord['strategy'];
  reason: string;
  requestedBy: string;
  old: RotationRecord['old'];
  policy: RotationPolicy;
  nameSeen?: RotationRecord['nameSeen'];
  now: number;
}

export function newRotation(i: NewRotationInput): RotationRecord {
  return {
    rotationId: i.rotationId,
    secretName: i.secretName,
    kind: i.kind,
    strategy: i.strategy,
    reason: i.reason,
    requestedBy: i.requestedBy,
    old: i.old,
    policy: i.policy,
    step: 'planned',
    attempt: 0,
    createBegunAt: null,
    pendingVersionId: null,
    created: null,
    orphans: [],
    ...(i.nameSeen ? { nameSeen: i.nameSeen } : {}),
    error: null,
    approvalId: null,
    createdAt: i.now,
    updatedAt: i.now,
    promotedAt: null,
    retireAt: null,
    deactivatedAt: null,
    revision: 0,
  };
}
