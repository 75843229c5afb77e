import { DAY_MS } from '../../clock.js';
import type { CredentialState, ExpirySource } from '../../model.js';
import { expiryPhrase } from '../../notify/format-time.js';

/**
 * Pure classification of one credential at one instant (DESIGN.md "Expiry watch"). No I/O, no
 * clock of its own: `now` is an argument.
 */

/** What Dfns and the store tell us about a credential's expiry. */
export type ExpiryEvidence =
  /** We hold the token and it has an `exp` claim: exact. */
  | { kind: 'token'; expiresAt: number }
  /** We hold the token but it has no usable `exp` (legacy or malformed): we cannot tell. */
  | { kind: 'token-without-exp'; problem: string }
  /** We do not hold the token: estimate from `dateCreated` + an assumed lifetime. */
  | { kind: 'not-held' };

export interface ClassifyInput {
  isActive: boolean;
  /** ISO-8601 from Dfns. */
  dateCreated: string;
  evidence: ExpiryEvidence;
  /** When the signing key was created (epoch ms); defaults to dateCreated. */
  keyCreatedAt?: number;
}

export interface ClassifyPolicy {
  warnDays: readonly number[];
  rotateBeforeDays: number;
  assumedLifetimeDays: number;
  maxKeyAgeDays: number | null;
}

export interface Classification {
  state: CredentialState;
  expiresAt: number | null;
  expirySource: ExpirySource;
  /** Whole days left, rounded down; negative once expired; null when unknown. */
  daysLeft: number | null;
  /** The smallest notify threshold (days) the credential is inside; null when outside all, expired or unknown. */
  threshold: number | null;
  /** True when the key is older than maxKeyAgeDays. */
  keyTooOld: boolean;
  reason: string;
}

export function expiryOf(input: ClassifyInput, assumedLifetimeDays: number): { expiresAt: number | null; source: ExpirySource; problem?: string } {
  return expiryFrom(input, Date.parse(input.dateCreated), assumedLifetimeDays);
}

/** `created`: `input.dateCreated` already parsed (NaN when it is not a date). */
function expiryFrom(input: ClassifyInput, created: number, assumedLifetimeDays: number): { expiresAt: number | null; source: ExpirySource; problem?: string } {
  switch (input.evidence.kind) {
    case 'token':
      return { expiresAt: input.evidence.expiresAt, source: 'token' };
    case 'token-without-exp':
      return { expiresAt: null, source: 'none', problem: input.evidence.problem };
    case 'not-held': {
      if (Number.isNaN(created)) return { expiresAt: null, source: 'none', problem: `dateCreated ${JSON.stringify(input.dateCreated)} is not a date` };
      return { expiresAt: created + assumedLifetimeDays * DAY_MS, source: 'estimate' };
    }
  }
}

/** The smallest threshold `msLeft` is inside (thresholds are in days, strictly decreasing). */
export function thresholdFor(msLeft: number, warnDays: readonly number[], lifetimeMs: number | null = null): number | null {
  let hit: number | null = null;
  for (const d of warnDays) {
    // A threshold at or above the lifetime would fire the moment the credential is created.
    if (lifetimeMs !== null && d * DAY_MS >= lifetimeMs) continue;
    if (msLeft <= d * DAY_MS) hit = hit === null ? d : Math.min(hit, d);
  }
  return hit;
}

/** A lifetime is a length, not a countdown: whole days, rounded (a JWT `exp` is in seconds). */
function lifetimeDays(lifetimeMs: number): number {
  return Math.max(1, Math.round(lifetimeMs / DAY_MS));
}

/**
 * The rotate-before window, capped at a third of the lifetime (cert-manager renews at 2/3 of a
 * certificate's life by default): a 30-day PAT under a 14-day window would otherwise be due
 * for rotation 16 days after its birth, and its replacement again 16 days after that.
 */
function rotateWindowMs(rotateBeforeDays: number, lifetimeMs: number | null): number {
  const configured = rotateBeforeDays * DAY_MS;
  return lifetimeMs === null ? configured : Math.min(configured, lifetimeMs / 3);
}


// Hot path: once per credential per scan. One object shape for every result, one date parse.
export function classifyCredential(input: ClassifyInput, policy: ClassifyPolicy, now: number): Classification {
  const created = Date.parse(input.dateCreated);
  const { expiresAt, source, problem } = expiryFrom(input, created, policy.assumedLifetimeDays);
  const estimated = source === 'estimate' ? ' (estimated)' : '';
  const msLeft = expiresAt === null ? null : expiresAt - now;
  const daysLeft = msLeft === null ? null : Math.floor(msLeft / DAY_MS);
  const keyCreatedAt = input.keyCreatedAt ?? (Number.isNaN(created) ? null : created);
  const keyAgeDays = keyCreatedAt === null ? null : (now - keyCreatedAt) / DAY_MS;
  const keyTooOld = policy.maxKeyAgeDays !== null && keyAgeDays !== null && keyAgeDays > policy.maxKeyAgeDays;

  let state: CredentialState;
  let threshold: number | null = null;
  let reason: string;
  if (!input.isActive) {
    state = 'inactive';
    reason = 'deactivated in Dfns';
  } else if (msLeft === null) {
    state = 'unknown';
    reason = `expiry unknown: ${problem ?? 'no expiry information'}`;
  } else if (msLeft <= 0) {
    state = 'expired';
    reason = `${expiryPhrase(now + msLeft, now)}${estimated}`;
  } else {
    // Lifetime: creation to expiry (exact for a held token, the assumed lifetime for an estimate).
    const lifetimeMs = expiresAt !== null && !Number.isNaN(created) && expiresAt > created ? expiresAt - created : null;
    threshold = thresholdFor(msLeft, policy.warnDays, lifetimeMs);
    const windowMs = rotateWindowMs(policy.rotateBeforeDays, lifetimeMs);
    if (msLeft <= windowMs) {
      state = 'rotate';
      const window = windowMs < policy.rotateBeforeDays * DAY_MS ? `the last third of its ${lifetimeDays(lifetimeMs!)}-day lifetime` : `the ${policy.rotateBeforeDays}-day rotation window`;
      reason = `${expiryPhrase(now + msLeft, now)}${estimated}, inside ${window}`;
    } else if (keyTooOld) {
      state = 'rotate';
      reason = `key is ${Math.floor(keyAgeDays!)} days old (max ${policy.maxKeyAgeDays}); ${expiryPhrase(now + msLeft, now)}${estimated}`;
    } else {
      state = threshold !== null ? 'warn' : 'ok';
      reason = `${expiryPhrase(now + msLeft, now)}${estimated}`;
    }
  }
  return { expiresAt, expirySource: source, daysLeft, keyTooOld, state, threshold, reason };
}

const URGENCY: Record<CredentialState, number> = { expired: 0, rotate: 1, warn: 2, unknown: 3, ok: 4, inactive: 5 };

/** Most urgent first: by state, then soonest expiry, then name. */
export function byUrgency<T extends { state: CredentialState; expiresAt: number | null; name: string }>(a: T, b: T): number {
  return (
    URGENCY[a.state] - URGENCY[b.state] ||
    (a.expiresAt ?? Number.MAX_SAFE_INTEGER) - (b.expiresAt ?? Number.MAX_SAFE_INTEGER) ||
    a.name.localeCompare(b.name)
  );
}
