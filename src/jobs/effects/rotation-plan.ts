import { DAY_MS } from '../../clock.js';
import type { CredentialPolicy, PolicySubject } from '../../config/policy.js';
import { decodeJwtClaims } from '../../dfns/jwt.js';
import { RotatorError } from '../../errors.js';
import { versionWithStage } from '../../secrets/stages.js';
import type { SecretStore, SecretVersion } from '../../secrets/types.js';
import type { CredentialKind } from '../../model.js';
import type { Identities } from '../identities/identities.js';
import type { Observation } from '../state/scan-results.js';
import { readStoreTolerantly } from './store-read.js';
import { newRotation } from '../core/rotation-machine.js';
import { rotationPolicy } from '../core/rotation-policy.js';
import type { RotationRecord, RotationStrategy } from '../core/rotation-types.js';
import { cliCommand } from '../../cli-name.js';

/** The rotation cannot start (nothing was changed anywhere): the message says why and what to do. */
export class RotationPlanError extends RotatorError {
  constructor(message: string) {
    super('ROTATION_PLAN', message);
  }
}

export interface PlanDeps {
  store: Pick<SecretStore, 'get' | 'list'>;
  identities: Identities;
  policyFor: (subject: PolicySubject) => CredentialPolicy;
  /** What the last scan's listing showed of a managed credential (scan-results.ts), so planning need not ask Dfns again. */
  observation?: (kind: CredentialKind, id: string) => Promise<Observation | null>;
}

/**
 * A listing older than this is not trusted for the replacement's permission: Dfns is asked again.
 * Scans run hourly by default, and the rotations a scan queues are planned within seconds of it.
 */
export const OBSERVATION_MAX_AGE_MS = 2 * 3_600_000;

/**
 * Finds the managed secret a job names: a secret name, a credential key (`sa:us-…`,
 * `pat:to-…`), or a bare Dfns id (`us-…`, `to-…`) held as some secret's current version.
 */
export async function resolveSecretName(store: Pick<SecretStore, 'get' | 'list' | 'listReadable'>, credential: string): Promise<string> {
  if (await store.get(credential).catch(() => null)) return credential;
  const id = credential.replace(/^(sa|pat):/, '');
  // A damaged file elsewhere in the store must not stop a rotation of this one.
  const { summaries } = await readStoreTolerantly(store);
  const match = summaries.find((s) => s.versions.some((v) => v.stages.includes('current') && v.metadata.credentialId === id));
  if (match) return match.name;
  throw new RotationPlanError(`no managed credential "${credential}": give a secret name, sa:<id>, pat:<id> or a Dfns id of a credential in the store (see \`${cliCommand('plan')}\`)`);
}

/** Days between the token's `iat` and `exp`, the lifetime the replacement keeps. */
export function tokenLifetimeDays(token: string | null): number | null {
  if (!token) return null;
  const decoded = decodeJwtClaims(token);
  if (!decoded.ok) return null;
  const { iat, exp } = decoded.claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat) return null;
  // No upper clamp: the current Dfns reference documents no maximum (older docs: 730).
  return Math.max(1, Math.round(((exp - iat) * 1000) / DAY_MS));
}

/** A replacement gets the old credential's permission: when Dfns does not list it, guessing "none" could break or widen it. */
function knownPermissions(credentialId: string, assignments: readonly { permissionId: string }[] | null): string[] {
  if (assignments === null) {
    throw new RotationPlanError(`Dfns' answer for ${credentialId} does not list its permission assignments, so a replacement cannot be given the same permission: use strategy rekey, or rotate it by hand`);
  }
  return assignments.map((p) => p.permissionId);
}

/** When neither the policy nor the token says how long a replacement should live. */
export const FALLBACK_DAYS_VALID = 365;

export interface PlanInput {
  secretName: string;
  rotationId: string;
  reason: string;
  requestedBy: string;
  strategy?: RotationStrategy;
  now: number;
}

export async function planRotation(deps: PlanDeps, input: PlanInput): Promise<{ record: RotationRecord; current: SecretVersion }> {
  const secret = await deps.store.get(input.secretName);
  const current = secret && versionWithStage(secret.versions, 'current');
  if (!current) throw new RotationPlanError(`secret "${input.secretName}" has no current version to rotate`);
  const v = current.value;
  if (!v.credentialId) throw new RotationPlanError(`secret "${input.secretName}" does not say which Dfns credential it holds`);
  const policy = deps.policyFor({ kind: v.kind, id: v.credentialId, name: v.name, secretName: input.secretName });
  const strategy = input.strategy ?? policy.strategy;
  if (strategy === 'notify') {
    throw new RotationPlanError(`"${input.secretName}" has strategy notify: the worker does not rotate it; ask for strategy replace or rekey explicitly to force one`);
  }

  let permissionIds: string[] = [];
  let nameSeen: RotationRecord['nameSeen'];
  if (strategy === 'replace') {
    const operator = await deps.identities.operator();
    if (!operator) throw new RotationPlanError('strategy replace needs an operator identity (an org user who can create credentials); none is configured');
    const seen = await deps.observation?.(v.kind, v.credentialId).catch(() => null);
    const fresh = seen && input.now - seen.at <= OBSERVATION_MAX_AGE_MS && seen.at <= input.now ? seen : null;
    if (fresh && (v.kind === 'service-account' || fresh.ownedByOperator)) {
      // The scan that queued this rotation listed it moments ago: its permission, and (for a PAT)
      // that the operator owns it, are known without another request.
      permissionIds = fresh.permissionIds;
      if (fresh.replacementName) nameSeen = { ...fresh.replacementName, at: fresh.at };
    } else if (v.kind === 'service-account') {
      const sa = await operator.getServiceAccount(v.credentialId);
      permissionIds = knownPermissions(v.credentialId, sa.permissionAssignments);
    } else {
      const listed = await operator.listPersonalAccessTokensDetailed();
      const pat = listed.items.find((p) => p.tokenId === v.credentialId);
      const unreadable = listed.unreadable.find((u) => u.id === v.credentialId);
      if (unreadable) throw new RotationPlanError(`Dfns lists PAT ${v.credentialId} but its record cannot be read (${unreadable.problem}): nothing was changed`);
      if (!pat) throw new RotationPlanError(`PAT ${v.credentialId} does not belong to the operator: only its owner can create its replacement; use strategy rekey`);
      permissionIds = knownPermissions(v.credentialId, pat.permissionAssignments);
    }
    // Dfns creates a credential with at most one permission; a replacement with fewer rights would break its consumers silently.
    if (permissionIds.length > 1) {
      throw new RotationPlanError(`${v.credentialId} has ${permissionIds.length} permission assignments but Dfns creates a replacement with one: use strategy rekey, or merge them into one permission`);
    }
  }
  const daysValid = policy.daysValid ?? tokenLifetimeDays(v.accessToken) ?? FALLBACK_DAYS_VALID;
  const record = newRotation({
    rotationId: input.rotationId,
    secretName: input.secretName,
    kind: v.kind,
    strategy,
    reason: input.reason,
    requestedBy: input.requestedBy,
    old: { credentialId: v.credentialId, versionId: current.versionId, credId: v.credId, name: v.name, permissionIds, daysValid },
    policy: rotationPolicy(policy),
    ...(nameSeen ? { nameSeen } : {}),
    now: input.now,
  });
  return { record, current };
}
