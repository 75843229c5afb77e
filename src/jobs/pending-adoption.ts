import { UnrecoverableError } from 'bullmq';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { versionWithStage } from '../secrets/stages.js';
import type { SecretStore, SecretSummary, SecretVersion } from '../secrets/types.js';
import type { AuditLog } from './audit.js';
import { ulid } from './ids.js';
import { rekeyCredId } from './rotation-effects.js';
import { isTerminal } from './rotation-machine.js';
import { planRotation, RotationPlanError, type PlanDeps } from './rotation-plan.js';
import { RotationConflictError, type RotationStore } from './rotation-store.js';
import type { RotationRecord } from './rotation-types.js';

/**
 * The store is the durable truth. A rotation's record lives in Redis; if Redis loses it (restarted
 * without persistence, failed over to an empty replica), the store may still hold its `pending`
 * version — possibly with a live new credential whose token exists nowhere else. Such a version is
 * adopted: the rotation's record is rebuilt from the store (its rotation id, the attempt marker,
 * the created credential) and the normal protocol finishes it: a created credential is proven,
 * then promoted, or removed if it does not work; a create that may have been sent is reconciled
 * on evidence; an untouched stage simply goes on.
 */
export interface AdoptionDeps extends PlanDeps {
  store: Pick<SecretStore, 'get' | 'list'>;
  rotations: RotationStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  actor: string;
}

/** Rebuilds the rotation record of an orphaned pending version, claims the secret for `jobId`; true when it did. */
export async function adoptOrphanedPending(deps: AdoptionDeps, secretName: string, jobId: string): Promise<boolean> {
  const secret = await deps.store.get(secretName);
  const pending = secret ? versionWithStage(secret.versions, 'pending') : undefined;
  const rotationId = pending?.metadata.rotationId;
  if (!pending || !rotationId || (await deps.rotations.get(rotationId))) return false;

  const strategy = pending.value.credId === rekeyCredId(rotationId) ? 'rekey' : 'replace';
  let planned: RotationRecord;
  try {
    ({ record: planned } = await planRotation(deps, {
      secretName, rotationId, strategy, now: deps.clock.now(), requestedBy: 'adoption',
      reason: `adopted pending version ${pending.versionId}, left without its rotation record`,
    }));
  } catch (err) {
    if (!(err instanceof RotationPlanError)) throw err;
    const detail = `pending version ${pending.versionId} of rotation ${rotationId} has no rotation record and cannot be adopted: ${describeError(err)}; promote or discard it by hand`;
    await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action: 'adopt', outcome: 'failed', rotationId, secretName, detail });
    throw new UnrecoverableError(detail);
  }
  const { record, what } = resumePoint(planned, pending);
  try {
    await deps.rotations.save(record);
  } catch (err) {
    if (err instanceof RotationConflictError) return false; // another worker adopted it first
    throw err;
  }
  await deps.rotations.claimActive(secretName, rotationId, jobId);
  const detail = `pending version ${pending.versionId} had no rotation record (Redis lost it); ${what}`;
  deps.logger.warn({ rotationId, secretName, step: record.step }, `adopting an orphaned pending version: ${detail}`);
  await deps.audit.record({ at: deps.clock.now(), actor: deps.actor, action: 'adopted', outcome: 'info', rotationId, secretName, step: record.step, detail });
  return true;
}

/** Where the rebuilt rotation resumes, from what the pending version holds. */
function resumePoint(planned: RotationRecord, pending: SecretVersion): { record: RotationRecord; what: string } {
  const marker = pending.metadata.createAttempt;
  const base: RotationRecord = { ...planned, pendingVersionId: pending.versionId, attempt: marker?.attempt ?? 0, createBegunAt: marker?.firstAt ?? null };
  const v = pending.value;
  if (planned.strategy === 'replace' && v.accessToken && v.credentialId) {
    return {
      record: { ...base, step: 'created', attempt: Math.max(1, base.attempt), created: { credentialId: v.credentialId, credId: v.credId, name: v.name, expiresAt: pending.metadata.expiresAt ?? null } },
      what: `it holds the new credential ${v.credentialId}: its token and key are proven, then it is promoted (or removed if it does not work)`,
    };
  }
  if (marker) {
    return { record: { ...base, step: 'creating' }, what: `create attempt ${marker.attempt} (${marker.name}) may have been sent: Dfns is searched for it by the staged key before going on` };
  }
  return { record: { ...base, step: 'staged' }, what: 'nothing was created yet: the rotation goes on' };
}

export interface UnfinishedRotation {
  secretName: string;
  rotationId: string;
  /** `orphaned`: its record is gone; `unfinished`: its record is alive but may have no job driving it. */
  why: 'orphaned' | 'unfinished';
}

/**
 * Rotations that a pending version says are under way and that no person is waiting on (parked):
 * the scan and the daemon's start queue a rotation for each, which adopts or resumes it. A queued
 * or running job of the secret makes that request a no-op (one rotation job per secret).
 */
export async function findUnfinishedRotations(summaries: readonly SecretSummary[], rotations: Pick<RotationStore, 'get'>): Promise<UnfinishedRotation[]> {
  const out: UnfinishedRotation[] = [];
  for (const s of summaries) {
    const rotationId = s.versions.find((v) => v.stages.includes('pending'))?.metadata.rotationId;
    if (!rotationId) continue;
    const record = await rotations.get(rotationId);
    if (!record) out.push({ secretName: s.name, rotationId, why: 'orphaned' });
    else if (!isTerminal(record) && record.step !== 'parked') out.push({ secretName: s.name, rotationId, why: 'unfinished' });
  }
  return out;
}

export const UNFINISHED_REASONS: Record<UnfinishedRotation['why'], string> = {
  orphaned: 'adopt a pending version left without its rotation record',
  unfinished: 'resume an unfinished rotation',
};

export interface QueueUnfinishedDeps {
  rotations: Pick<RotationStore, 'get'>;
  requestRotation: (request: { secretName: string; reason: string; requestedBy: string; rotationId: string; requestedAt: number }) => Promise<boolean>;
  clock: Clock;
  logger: Logger;
}

/** Queues a rotation job for every unfinished or orphaned rotation the store shows; returns how many were queued. */
export async function queueUnfinishedRotations(deps: QueueUnfinishedDeps, summaries: readonly SecretSummary[], requestedBy: string): Promise<number> {
  let queued = 0;
  const now = deps.clock.now();
  for (const u of await findUnfinishedRotations(summaries, deps.rotations)) {
    if (!(await deps.requestRotation({ secretName: u.secretName, reason: UNFINISHED_REASONS[u.why], requestedBy, rotationId: ulid(now), requestedAt: now }))) continue;
    queued += 1;
    deps.logger.warn({ secretName: u.secretName, rotationId: u.rotationId, why: u.why }, `queued a rotation job to ${UNFINISHED_REASONS[u.why]}`);
  }
  return queued;
}
