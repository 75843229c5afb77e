import { UnrecoverableError } from 'bullmq';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { versionWithStage } from '../secrets/stages.js';
import type { SecretStore, SecretSummary, SecretVersion } from '../secrets/types.js';
import type { AuditLog } from './state/audit.js';
import { ulid } from './queues/ids.js';
import { rekeyCredId } from './effects/effect-context.js';
import { isInFlight } from './core/rotation-machine.js';
import { toJobOutcome } from './core/job-outcome.js';
import { planRotation, type PlanDeps } from './effects/rotation-plan.js';
import { RotationConflictError, type RotationStore } from './state/rotation-store.js';
import type { RotationRecord } from './core/rotation-types.js';

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

/**
 * Rebuilds the rotation record of an orphaned pending version (or of a promoted rotation whose
 * old credential was never retired), claims the secret for `jobId`; true when it did.
 */
export async function adoptOrphanedPending(deps: AdoptionDeps, secretName: string, jobId: string): Promise<boolean> {
  const secret = await deps.store.get(secretName);
  const pending = secret ? versionWithStage(secret.versions, 'pending') : undefined;
  if (!pending && secret) return adoptUnretired(deps, secretName, secret.versions, jobId);
  const rotationId = pending?.metadata.rotationId;
  if (!pending || !rotationId) return false;
  const existing = await deps.rotations.get(rotationId);
  if (existing) {
    // Alive but holding no claim on the secret (its pointer was lost): claim it for this job, so
    // it is resumed rather than a second rotation planned over its pending version.
    if (isInFlight(existing) && existing.step !== 'parked' && !(await deps.rotations.active(secretName))) await deps.rotations.claimActive(secretName, rotationId, jobId);
    return false;
  }

  const strategy = pending.value.credId === rekeyCredId(rotationId) ? 'rekey' : 'replace';
  let planned: RotationRecord;
  try {
    ({ record: planned } = await planRotation(deps, {
      secretName, rotationId, strategy, now: deps.clock.now(), requestedBy: 'adoption',
      reason: `adopted pending version ${pending.versionId}, left without its rotation record`,
    }));
  } catch (err) {
    if (toJobOutcome(err) !== 'unrecoverable') throw err;
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

/**
 * Promoted, but its record (and with it the retire job) was lost: the old credential, still the
 * secret's `previous` version, would stay active for ever. The record is rebuilt at `announced`
 * (the success message may have gone out already), so the retire is scheduled again; retiring is
 * idempotent (it checks whether the old credential is still active).
 */
async function adoptUnretired(deps: AdoptionDeps, secretName: string, versions: readonly SecretVersion[], jobId: string): Promise<boolean> {
  const current = versionWithStage(versions, 'current');
  const previous = versionWithStage(versions, 'previous');
  const rotationId = current?.metadata.rotationId;
  if (!current || !previous || !rotationId || !current.value.credentialId || !previous.value.credentialId) return false;
  if (await deps.rotations.get(rotationId)) return false;
  const strategy = previous.value.credentialId === current.value.credentialId ? 'rekey' : 'replace';
  const at = current.metadata.rotatedAt ?? current.metadata.createdAt;
  const record: RotationRecord = {
    rotationId, secretName, kind: current.value.kind, strategy, requestedBy: 'adoption',
    reason: `adopted: version ${current.versionId} was promoted but its rotation record was lost, so ${previous.value.credentialId} was never retired`,
    old: { credentialId: previous.value.credentialId, versionId: previous.versionId, credId: previous.value.credId, name: previous.value.name, permissionIds: [], daysValid: 0 },
    step: 'announced', attempt: 1, createBegunAt: null, pendingVersionId: current.versionId,
    created: { credentialId: current.value.credentialId, credId: current.value.credId, name: current.value.name, expiresAt: current.metadata.expiresAt ?? null },
    orphans: [], error: null, approvalId: null, createdAt: at, updatedAt: deps.clock.now(), promotedAt: at, retireAt: null, deactivatedAt: null, revision: 0,
  };
  try {
    await deps.rotations.save(record);
  } catch (err) {
    if (err instanceof RotationConflictError) return false;
    throw err;
  }
  await deps.rotations.claimActive(secretName, rotationId, jobId);
  const detail = `version ${current.versionId} is current but its rotation record was lost (Redis lost it) before ${previous.value.credentialId} was retired; scheduling its retirement again`;
  deps.logger.warn({ rotationId, secretName }, `adopting a promoted rotation: ${detail}`);
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
  /**
   * `orphaned`: a pending version whose record is gone; `unfinished`: its record is alive but may
   * have no job driving it; `unretired`: promoted, record gone, the old credential never retired.
   */
  why: 'orphaned' | 'unfinished' | 'unretired';
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
    if (!rotationId) {
      const current = s.versions.find((v) => v.stages.includes('current'));
      const previous = s.versions.find((v) => v.stages.includes('previous'));
      const promotedBy = current?.metadata.rotationId;
      if (promotedBy && previous?.metadata.credentialId && !(await rotations.get(promotedBy))) out.push({ secretName: s.name, rotationId: promotedBy, why: 'unretired' });
      continue;
    }
    const record = await rotations.get(rotationId);
    if (!record) out.push({ secretName: s.name, rotationId, why: 'orphaned' });
    else if (isInFlight(record) && record.step !== 'parked') out.push({ secretName: s.name, rotationId, why: 'unfinished' });
  }
  return out;
}

export const UNFINISHED_REASONS: Record<UnfinishedRotation['why'], string> = {
  orphaned: 'adopt a pending version left without its rotation record',
  unfinished: 'resume an unfinished rotation',
  unretired: 'retire the credential a rotation whose record was lost replaced',
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
