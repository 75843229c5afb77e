import { createPublicKey } from 'node:crypto';
import { DfnsCreateOutcomeLostError } from './errors.js';

/**
 * Finding a create whose answer was lost. Dfns has no idempotency key for SA/PAT creates
 * (dfns-api.md §6): `externalId` is correlation only and may not even appear in list answers
 * (UNCONFIRMED; the simulator's `listIncludesExternalId` switch), so match by `externalId` when
 * the listing carries externalIds at all, else by the name we chose, which callers make unique
 * (the rotation engine puts the rotation id in it). A PEM public key on the record must then
 * match ours; a fingerprint (`SHA256:…`, as list answers may show) cannot be compared and is accepted.
 */
export interface CreateIdentity {
  name: string;
  externalId?: string;
  publicKeyPem: string;
}

export interface Candidate {
  name: string;
  externalId?: string;
  publicKeys: string[];
}

export function findCreatedRecord<T>(records: readonly T[], view: (record: T) => Candidate, wanted: CreateIdentity): T | undefined {
  const carriesExternalIds = records.some((r) => view(r).externalId !== undefined);
  const matches = (r: T): boolean => {
    const c = view(r);
    const sameRecord = wanted.externalId !== undefined && carriesExternalIds ? c.externalId === wanted.externalId : c.name === wanted.name;
    return sameRecord && c.publicKeys.every((key) => publicKeyMayBe(key, wanted.publicKeyPem));
  };
  return records.find(matches);
}

function publicKeyMayBe(listed: string, ours: string): boolean {
  if (!listed.includes('-----BEGIN')) return true;
  try {
    const a = createPublicKey(listed).export({ type: 'spki', format: 'der' });
    const b = createPublicKey(ours).export({ type: 'spki', format: 'der' });
    return a.equals(b);
  } catch {
    return false;
  }
}

export function createLostError(
  operation: string,
  recordKind: 'serviceAccount' | 'personalAccessToken',
  recordId: string,
  why: string,
): DfnsCreateOutcomeLostError {
  const noun = recordKind === 'serviceAccount' ? 'service account' : 'personal access token';
  return new DfnsCreateOutcomeLostError(
    `the ${noun} ${recordId} WAS created but the answer was lost (${why}); its access token, shown only once, is gone. ` +
      `The orphan ${recordId} must be deactivated and archived before creating again.`,
    { operation, recordKind, recordId },
  );
}
