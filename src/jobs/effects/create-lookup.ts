import { judgeCandidate, lookUpCreate, patCandidate, serviceAccountCandidate, type Candidate, type CreateIdentity } from '../../dfns/index.js';
import type { DfnsPort } from '../../dfns/port.js';
import type { SecretVersion } from '../../secrets/types.js';
import { externalIdFor } from '../core/rotation-machine.js';
import type { RotationRecord } from '../core/rotation-types.js';

/**
 * The rotation engine's side of "is this listed credential our lost create?": it lists what the
 * operator sees and asks the one evidence-based decision (`dfns/create-reconcile.ts`). A name
 * match alone never makes a credential ours.
 */
export interface OwnCreateLookup {
  /** Credentials proven this rotation's, with the evidence. */
  ours: { id: string; why: string }[];
  /** A credential holding the wanted name that is not proven ours. */
  holder?: { id: string; name: string; verdict: 'not-ours' | 'unproven'; why: string };
}

/** What proves a credential is this rotation's: its staged key, any externalId it sent, created after its first attempt began. */
export function createIdentityOf(r: Pick<RotationRecord, 'rotationId' | 'attempt' | 'createBegunAt'>, pending: SecretVersion, name: string): CreateIdentity {
  const firstAt = r.createBegunAt ?? pending.metadata.createAttempt?.firstAt;
  return {
    name,
    externalIds: Array.from({ length: Math.max(1, r.attempt) }, (_, i) => externalIdFor(r.rotationId, i + 1)),
    publicKeyPem: pending.value.publicKeyPem,
    ...(firstAt !== undefined && firstAt !== null ? { createdAfter: firstAt } : {}),
  };
}

export async function lookUpOwnCreate(op: DfnsPort, kind: RotationRecord['kind'], wanted: CreateIdentity): Promise<OwnCreateLookup> {
  if (kind === 'service-account') return summarize(await op.listServiceAccounts(), (sa) => sa.id, serviceAccountCandidate, wanted);
  return summarize(await op.listPersonalAccessTokens(), (pat) => pat.tokenId, patCandidate, wanted);
}

function summarize<T>(records: readonly T[], idOf: (r: T) => string, view: (r: T) => Candidate, wanted: CreateIdentity): OwnCreateLookup {
  const found = lookUpCreate(records, view, wanted);
  const out: OwnCreateLookup = { ours: found.ours.map((r) => ({ id: idOf(r), why: judgeCandidate(view(r), wanted).why })) };
  if (found.nameHolder) {
    const { record, verdict } = found.nameHolder;
    out.holder = { id: idOf(record), name: view(record).name, verdict: verdict.kind, why: verdict.why };
  }
  return out;
}
