import { createHash, createPublicKey } from 'node:crypto';
import { DfnsCreateOutcomeLostError } from './errors.js';
import type { PersonalAccessTokenRecord, ServiceAccountRecord } from './port.js';

/**
 * Whether a listed service account or PAT is the product of our own create whose answer was
 * lost. This is the one place that decides it, for the port's in-call reconciliation
 * (`sdk-client.ts`) and for the rotation engine's resume (`jobs/effects/create-lookup.ts`).
 *
 * Dfns has no idempotency key for SA/PAT creates (dfns-api.md §6), and an unrelated credential
 * may carry the very name we chose, so a name is never evidence. Evidence is:
 * - the public key: ours was generated for this create, so a record holding it is ours. Lists
 *   show either a PEM or a `SHA256:` fingerprint (dfns-api.md §3; the fingerprint's encoding is
 *   UNCONFIRMED: base64 with or without padding, base64url and hex of the SPKI DER digest are
 *   recognised, anything else cannot be compared);
 * - the `externalId` we sent (`rotator:<rotationId>[:attempt]`), when the listing carries it
 *   (UNCONFIRMED; the simulator's `listIncludesExternalId` switch);
 * - the creation time: a record created before our first attempt began is not ours.
 * Contradicting evidence (our externalId with another key) is never resolved in our favour.
 */
export interface CreateIdentity {
  /** The name the create uses now; a record holding it that is not ours is reported as its holder. */
  name: string;
  /** Every externalId this create (and its earlier attempts) sent. */
  externalIds: readonly string[];
  publicKeyPem: string;
  /** Epoch ms when the first attempt began; unknown when absent. */
  createdAfter?: number;
}

export interface Candidate {
  name: string;
  externalId?: string;
  /** As listed: PEM, `SHA256:` fingerprint, or empty. */
  publicKeys: readonly string[];
  /** ISO-8601, when the listing says. */
  dateCreated?: string;
}

export type Verdict =
  /** Proven ours: safe to clean up as an orphan of our create. */
  | { kind: 'ours'; why: string }
  /** Proven not ours: never touched. */
  | { kind: 'not-ours'; why: string }
  /** Nothing proves it either way (or the evidence contradicts itself): never touched; people are told. */
  | { kind: 'unproven'; why: string };

/** Dfns' clock and ours may disagree by this much before a creation time counts against a record. */
export const CREATE_CLOCK_SKEW_MS = 5 * 60_000;

type Evidence = 'match' | 'mismatch' | 'unknown';

export function judgeCandidate(c: Candidate, wanted: CreateIdentity): Verdict {
  const key = keyEvidence(c.publicKeys, wanted.publicKeyPem);
  const ext: Evidence = c.externalId === undefined || c.externalId === '' ? 'unknown' : wanted.externalIds.includes(c.externalId) ? 'match' : 'mismatch';
  const created = c.dateCreated === undefined ? Number.NaN : Date.parse(c.dateCreated);
  const before = wanted.createdAfter !== undefined && Number.isFinite(created) && created < wanted.createdAfter - CREATE_CLOCK_SKEW_MS;

  if (key === 'match' || ext === 'match') {
    const what = key === 'match' ? 'its public key is the one staged for this create' : `its externalId is ${c.externalId}`;
    if (key === 'mismatch') return { kind: 'unproven', why: `its externalId ${c.externalId} is ours but its public key is not` };
    if (ext === 'mismatch') return { kind: 'unproven', why: `its public key is ours but its externalId ${c.externalId} is not` };
    if (before) return { kind: 'unproven', why: `${what}, yet it was created (${c.dateCreated}) before this create began` };
    return { kind: 'ours', why: what };
  }
  if (key === 'mismatch') return { kind: 'not-ours', why: 'its public key is not the one staged for this create' };
  if (ext === 'mismatch') return { kind: 'not-ours', why: `its externalId ${c.externalId} is not this create's` };
  if (before) return { kind: 'not-ours', why: `it was created (${c.dateCreated}) before this create began` };
  return { kind: 'unproven', why: 'the listing shows neither a public key nor an externalId that can be compared with ours' };
}

export interface CreateLookup<T> {
  /** Records proven to be ours. */
  ours: T[];
  /** A record that holds `wanted.name` and is not proven ours, with why. */
  nameHolder?: { record: T; verdict: Exclude<Verdict, { kind: 'ours' }> };
}

export function lookUpCreate<T>(records: readonly T[], view: (record: T) => Candidate, wanted: CreateIdentity): CreateLookup<T> {
  const out: CreateLookup<T> = { ours: [] };
  for (const record of records) {
    const c = view(record);
    const verdict = judgeCandidate(c, wanted);
    if (verdict.kind === 'ours') out.ours.push(record);
    else if (c.name === wanted.name && (!out.nameHolder || (verdict.kind === 'unproven' && out.nameHolder.verdict.kind === 'not-ours'))) {
      out.nameHolder = { record, verdict };
    }
  }
  return out;
}

function keyEvidence(listed: readonly string[], ourPem: string): Evidence {
  let comparable = false;
  for (const key of listed) {
    const same = sameKey(key, ourPem);
    if (same === true) return 'match';
    if (same === false) comparable = true;
  }
  return comparable ? 'mismatch' : 'unknown';
}

/** True/false when the listed key can be compared with ours; null when it cannot. */
function sameKey(listed: string, ourPem: string): boolean | null {
  const text = listed.trim();
  if (text === '') return null;
  let ours: Buffer;
  try {
    ours = spkiDer(ourPem);
  } catch {
    return null;
  }
  if (text.includes('-----BEGIN')) {
    try {
      return spkiDer(text).equals(ours);
    } catch {
      return null;
    }
  }
  const digest = parseFingerprint(text);
  return digest === null ? null : digest.equals(createHash('sha256').update(ours).digest());
}

function spkiDer(pem: string): Buffer {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}

/** The 32-byte digest of a `SHA256:` fingerprint in base64 (padded or not), base64url or hex; null for other forms. */
export function parseFingerprint(text: string): Buffer | null {
  const prefixed = /^sha-?256:/i.test(text);
  const body = text.replace(/^sha-?256:/i, '');
  const hex = body.replace(/:/g, '');
  if (/^[0-9a-f]{64}$/i.test(hex)) return Buffer.from(hex, 'hex');
  if (prefixed && /^[A-Za-z0-9+/_-]{43}=?$/.test(body)) {
    const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/').replace(/=$/, ''), 'base64');
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

/** How a listed service account is judged: by its access tokens' keys and the earliest token's creation time. */
export function serviceAccountCandidate(sa: ServiceAccountRecord): Candidate {
  const dates = sa.accessTokens.map((t) => t.dateCreated).filter((d) => Number.isFinite(Date.parse(d))).sort();
  return {
    name: sa.name,
    ...(sa.externalId !== undefined ? { externalId: sa.externalId } : {}),
    publicKeys: sa.accessTokens.map((t) => t.publicKey),
    ...(dates[0] !== undefined ? { dateCreated: dates[0] } : {}),
  };
}

export function patCandidate(pat: PersonalAccessTokenRecord): Candidate {
  return {
    name: pat.name,
    ...(pat.externalId !== undefined ? { externalId: pat.externalId } : {}),
    publicKeys: [pat.publicKey],
    dateCreated: pat.dateCreated,
  };
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
