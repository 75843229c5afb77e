/**
 * Domain vocabulary shared by the scan, the rotation engine, the notifiers and the server.
 * Plain data, no secrets: everything here may be logged, stored in Redis and shown on Slack.
 */

export type CredentialKind = 'service-account' | 'pat';

/** How a credential is kept fresh (DESIGN.md "Rotation strategies"). */
export type Strategy = 'replace' | 'rekey' | 'notify';

/** Classification of one credential at one instant (DESIGN.md "Expiry watch"). */
export type CredentialState = 'ok' | 'warn' | 'rotate' | 'expired' | 'inactive' | 'unknown';

/**
 * Where an expiry comes from: `token` is the exact JWT `exp` of a token we hold; `estimate` is
 * `dateCreated` + an assumed lifetime (Dfns exposes no expiry field); `none` means we could not
 * tell (e.g. a held token without `exp`).
 */
export type ExpirySource = 'token' | 'estimate' | 'none';

/** `sa:us-…` or `pat:to-…`: the stable key of a Dfns credential in job ids, metrics and dedupe keys. */
export type CredentialKey = `sa:${string}` | `pat:${string}`;

export function credentialKey(kind: CredentialKind, id: string): CredentialKey {
  return kind === 'service-account' ? `sa:${id}` : `pat:${id}`;
}

/** One credential as the scan sees it: Dfns record joined with the store and the policy. */
export interface InventoryItem {
  key: CredentialKey;
  kind: CredentialKind;
  /** Dfns id: SA user id (`us-…`) or PAT token id (`to-…`). */
  id: string;
  name: string;
  /** PAT owner (username or identity name); undefined for service accounts. */
  owner?: string;
  isActive: boolean;
  /** ISO-8601. */
  dateCreated: string;
  /** Epoch ms, or null when unknown. */
  expiresAt: number | null;
  expirySource: ExpirySource;
  /** True when the secret store holds this credential's token and key as `current`. */
  managed: boolean;
  /** Which store version holds it: `current` (managed), `pending` (being created), `previous` (being retired), or none. */
  role: 'current' | 'pending' | 'previous' | 'unmanaged';
  /** Name of the secret in the store, when managed. */
  secretName?: string;
  strategy: Strategy;
  state: CredentialState;
  /** Why the state is what it is, for people: "expires in 6 days (estimated)". */
  reason: string;
  /** Whole days left (floor), negative once expired; null when expiry unknown. */
  daysLeft: number | null;
  /** The notify threshold (days) the credential is inside, if any. */
  threshold: number | null;
  /** The worker's own identity (operator, watcher): listed like any other, flagged for emphasis. */
  isOwnIdentity?: boolean;
  /** What a person must do, for credentials the worker will not rotate itself. */
  action?: string;
  /** When the current version became current through a rotation; absent if it never was. */
  lastRotatedAt?: number;
  /** When the current version was brought under management by `adopt` (not a rotation). */
  adoptedAt?: number;
}

/** A secret the store holds but could not read: shown in the inventory as state `error`. */
export interface DamagedSecret {
  secretName: string;
  /** The file (or backend path) it lives at. */
  where: string;
  problem: string;
  /** The recovery step, as a person would take it. */
  action: string;
}

export interface ScanSummary {
  scanId: string;
  startedAt: number;
  finishedAt: number;
  counts: Record<CredentialState, number>;
  total: number;
  rotationsQueued: number;
  notificationsQueued: number;
  /** Identities that could not list (e.g. a watcher token that expired), with the reason. */
  errors: { identity: string; message: string }[];
  /** Store secrets that could not be read this scan (absent in scans stored before it existed). */
  damaged?: DamagedSecret[];
}
