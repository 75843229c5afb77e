import type { ManagedSecret, SecretRecord, SecretVersion, Stage, VersionMetadata } from './types.js';
import { SecretStageError } from './errors.js';

/**
 * Pure stage moves over a secret's versions (AWS Secrets Manager's AWSPENDING/AWSCURRENT/
 * AWSPREVIOUS). Each returns a new versions array for `SecretStore.put`; none mutates its input.
 */

/** Versions without a label kept for audit; older unlabelled ones are dropped (their credentials are retired). */
export const UNLABELLED_VERSIONS_KEPT = 2;

export function versionWithStage(versions: readonly SecretVersion[], stage: Stage): SecretVersion | undefined {
  return versions.find((v) => v.stages.includes(stage));
}

export function versionById(versions: readonly SecretVersion[], versionId: number): SecretVersion | undefined {
  return versions.find((v) => v.versionId === versionId);
}

function nextVersionId(versions: readonly SecretVersion[]): number {
  return versions.reduce((max, v) => Math.max(max, v.versionId), 0) + 1;
}

function prune(versions: SecretVersion[]): SecretVersion[] {
  const unlabelled = versions.filter((v) => v.stages.length === 0).sort((a, b) => b.versionId - a.versionId);
  const drop = new Set(unlabelled.slice(UNLABELLED_VERSIONS_KEPT).map((v) => v.versionId));
  return versions.filter((v) => !drop.has(v.versionId));
}

/**
 * Adds a new version labelled `pending`. Refuses when a pending version exists: it may hold the
 * only copy of a token Dfns showed once, so the caller must resume or discard it explicitly.
 */
export function addPending(
  record: SecretRecord | null,
  name: string,
  value: ManagedSecret,
  metadata: VersionMetadata,
): { versions: SecretVersion[]; versionId: number } {
  const versions = record?.versions ?? [];
  const existing = versionWithStage(versions, 'pending');
  if (existing) {
    throw new SecretStageError(name, `version ${existing.versionId} is already pending (rotation ${existing.metadata.rotationId ?? 'unknown'}); resume or discard it first`);
  }
  const versionId = nextVersionId(versions);
  return { versions: [...versions.map(copy), { versionId, stages: ['pending'], metadata, value }], versionId };
}

/** Adds the first version of a secret directly as `current` (adopting an existing credential). */
export function addCurrent(
  record: SecretRecord | null,
  name: string,
  value: ManagedSecret,
  metadata: VersionMetadata,
): { versions: SecretVersion[]; versionId: number } {
  const versions = record?.versions ?? [];
  if (versionWithStage(versions, 'pending')) {
    throw new SecretStageError(name, 'a rotation is pending; let it finish before adopting a credential under this name');
  }
  const versionId = nextVersionId(versions);
  const moved = versions.map((v) => relabel(v, (s) => (s === 'current' ? 'previous' : s === 'previous' ? null : s)));
  return { versions: prune([...moved, { versionId, stages: ['current'], metadata: metadata.adoptedAt !== undefined ? metadata : { ...metadata, rotatedAt: metadata.rotatedAt ?? metadata.createdAt }, value }]), versionId };
}

/** Fills in the pending version (e.g. the token Dfns just returned). Only the pending version may change in place. */
export function updatePending(
  record: SecretRecord,
  versionId: number,
  patch: { value?: Partial<ManagedSecret>; metadata?: Partial<VersionMetadata> },
): SecretVersion[] {
  const target = versionById(record.versions, versionId);
  if (!target || !target.stages.includes('pending')) {
    throw new SecretStageError(record.name, `version ${versionId} is not pending`);
  }
  return record.versions.map((v) =>
    v.versionId === versionId
      ? { ...copy(v), value: { ...v.value, ...patch.value }, metadata: { ...v.metadata, ...patch.metadata } }
      : copy(v),
  );
}

/**
 * pending → current, current → previous, previous → unlabelled, in one record. Idempotent: if
 * `versionId` is already current, returns the versions unchanged (a resumed promote).
 */
export function promotePending(record: SecretRecord, versionId: number, rotatedAt: number): SecretVersion[] {
  const target = versionById(record.versions, versionId);
  if (target?.stages.includes('current')) return record.versions.map(copy);
  if (!target || !target.stages.includes('pending')) {
    throw new SecretStageError(record.name, `cannot promote version ${versionId}: it is not pending`);
  }
  if (!target.value.accessToken || !target.value.credentialId) {
    throw new SecretStageError(record.name, `cannot promote version ${versionId}: it has no access token or credential id yet`);
  }
  const moved = record.versions.map((v) => {
    if (v.versionId === versionId) return { ...copy(v), stages: ['current'] as Stage[], metadata: { ...v.metadata, rotatedAt } };
    return relabel(v, (s) => (s === 'current' ? 'previous' : s === 'previous' ? null : s));
  });
  return prune(moved);
}

/** Removes a pending version entirely (rollback): its key belongs to a credential being retired. Idempotent. */
export function discardPending(record: SecretRecord, versionId: number): SecretVersion[] {
  const target = versionById(record.versions, versionId);
  if (!target) return record.versions.map(copy);
  if (!target.stages.includes('pending')) {
    throw new SecretStageError(record.name, `cannot discard version ${versionId}: it is ${target.stages.join(', ') || 'unlabelled'}, not pending`);
  }
  return record.versions.filter((v) => v.versionId !== versionId).map(copy);
}

/** Drops the `previous` label once its credential is retired, removing its key from the store. Idempotent. */
export function dropVersion(record: SecretRecord, versionId: number): SecretVersion[] {
  const target = versionById(record.versions, versionId);
  if (!target) return record.versions.map(copy);
  if (target.stages.includes('current') || target.stages.includes('pending')) {
    throw new SecretStageError(record.name, `refusing to drop version ${versionId}: it is ${target.stages.join(', ')}`);
  }
  return record.versions.filter((v) => v.versionId !== versionId).map(copy);
}

function relabel(v: SecretVersion, f: (s: Stage) => Stage | null): SecretVersion {
  return { ...copy(v), stages: v.stages.map(f).filter((s): s is Stage => s !== null) };
}

function copy(v: SecretVersion): SecretVersion {
  return { ...v, stages: [...v.stages], metadata: { ...v.metadata }, value: { ...v.value } };
}
