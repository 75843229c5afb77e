import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { SimActionLogEntry } from './action-log.js';

/**
 * The simulator's programmatic surface, used by tests, the demo and the benchmarks. The HTTP
 * surface is Dfns' own (see ../shared/dfns-api.md); this file is only how to start, steer and
 * inspect it.
 */

/** Operation names used by knobs (policy-pending, faults) and stats. */
export type SimOperation =
  | 'LoginInit' | 'Login'
  | 'ActionInit' | 'ActionSign'
  | 'ListServiceAccounts' | 'GetServiceAccount' | 'CreateServiceAccount' | 'UpdateServiceAccount'
  | 'ActivateServiceAccount' | 'DeactivateServiceAccount' | 'ArchiveServiceAccount'
  | 'ListPats' | 'GetPat' | 'CreatePat' | 'UpdatePat' | 'ActivatePat' | 'DeactivatePat' | 'ArchivePat'
  | 'CredentialInit' | 'CreateCredential' | 'ListCredentials' | 'ActivateCredential' | 'DeactivateCredential'
  | 'ListAuditLogs' | 'GetAuditLog';

export type FaultKind =
  /** 500/502/503 in Dfns' error shape, before the request is processed. */
  | 'server-error'
  /** The socket is destroyed before the request is processed. */
  | 'drop-before'
  /** The request IS processed, then the socket is destroyed: the answer is lost (ambiguous outcome). */
  | 'drop-after'
  /** 429 with Retry-After, regardless of the rate limit. */
  | 'rate-limited';

export interface SimKnobs {
  /** Added before every answer, in ms (real time). */
  latencyMs: number;
  /** Requests per minute per org before 429 (Dfns: 1000, trial 100). null = no limit. Windows follow the simulator clock. */
  rateLimitPerMinute: number | null;
  /**
   * Seconds sent in Retry-After with 429 (0 allowed, for fast tests). Null sends no Retry-After
   * header. 'until-reset' (default) sends the whole seconds left in the current rate-limit window
   * (at least 1). Dfns' own header is UNCONFIRMED.
   */
  retryAfterSeconds: number | 'until-reset' | null;
  /** Fraction 0..1 of requests that get an injected fault. */
  faultRate: number;
  /** Which faults are injected, chosen uniformly among these. */
  faultKinds: FaultKind[];
  /** Only inject faults on these operations (empty = all). */
  faultOperations: SimOperation[];
  /** Operations answered 202 (policy approval pending) instead of being performed. */
  policyPending: SimOperation[];
  /** UNCONFIRMED in Dfns (guide vs API reference): may an SA / PAT call /auth/credentials*? Default false (the reference). */
  tokensMayManageCredentials: boolean;
  /** UNCONFIRMED: does an SA created without permissionId inherit the caller's permissions? Default false (current docs). */
  serviceAccountInheritsPermissions: boolean;
  /** UNCONFIRMED: do list/get answers include `externalId`? Default false (SDK types have none). */
  listIncludesExternalId: boolean;
  /**
   * How a token's `publicKey` appears in answers: `fingerprint` (`SHA256:<base64>`, as Dfns' list
   * examples show; default), `pem`, or `empty` (the create example's `""`). UNCONFIRMED.
   */
  listedPublicKey: 'fingerprint' | 'pem' | 'empty';
  /** UNCONFIRMED: is the signed userActionHttpPath compared with the query string? Default false (SDK signs pathname). */
  userActionPathIncludesQuery: boolean;
  /**
   * UNCONFIRMED: days a token is valid when daysValid/secondsValid are omitted (seeded items
   * included). Default 730. Null: such tokens carry no `exp` at all (the current reference
   * documents no default).
   */
  defaultDaysValid: number | null;
  /**
   * Documented shape (GitBook Create Service Account / Create PAT examples): create answers carry
   * `credId: ""`, `publicKey: ""` and `kind: "CustomerEmployee"` on the new token. Default false.
   */
  createAnswerOmitsCredId: boolean;
  /** Documented shape (GitBook examples): `userInfo` carries `username` only, no `name`. Default false. */
  userInfoOmitsName: boolean;
  /** Documented shape (newer reference, Go SDK): `tenantId` instead of `orgId` in `userInfo` and tokens. Default false. */
  tenantIdInsteadOfOrgId: boolean;
  /** Documented shape (current reference examples): no `kind` in `userInfo` or tokens. Default false. */
  omitKind: boolean;
  /**
   * UNCONFIRMED (rotation guide vs reference): where a PAT's keys live. `pat` (default): a PAT
   * signs with its own keys, and a key it registers is its own. `linked-user`: "on the PAT's
   * linked user": a key a PAT registers goes to its owner, and a PAT may sign with any of its
   * owner's keys.
   */
  patKeysOn: 'pat' | 'linked-user';
  /**
   * Fault: names of service accounts / PATs whose items in list answers are malformed
   * (`isActive: "yes"`, a shape no client can read), to test that one bad item hides no other.
   */
  unreadableItems: string[];
  /** Lifetime of operator login tokens, seconds. Default 3600 (UNCONFIRMED in Dfns). */
  loginTokenSeconds: number;
  /** Lifetime of a user action challenge and of a signed user action, seconds. Default 300. */
  userActionTtlSeconds: number;
  /** Seed for the fault RNG so a run is repeatable. */
  randomSeed: number;
  /** Rows of one audit-log answer before it is cut and flagged `X-Dfns-Result-Truncated` (Dfns: 100,000). */
  actionLogMaxRows: number;
}

/** What a seeded service account and a seeded PAT share: their token's key, permission, age and life. */
export interface SeededToken {
  /** PEM of the token's signing key. Omitted: the simulator makes a key and forgets the private half. */
  publicKeyPem?: string;
  credId?: string;
  permission?: string;
  /** Age of the credential and its token, days (may be fractional). Default 0. */
  ageDays?: number;
  /** Lifetime of the token, days. Default `defaultDaysValid`. */
  daysValid?: number;
  isActive?: boolean;
  /** Issue the token with no `exp` claim (a legacy token). */
  noExpiry?: boolean;
}

/** Seed file: see README "Simulator seed file". Public keys are PEM; private keys never appear. */
export interface SeedFile {
  /** Knobs to start with; `startSimulator({ knobs })` and CLI flags override them. */
  knobs?: Partial<SimKnobs>;
  orgId?: string;
  /** Named permissions (operations are Dfns permission names, e.g. `Auth:ServiceAccounts:Create`). */
  permissions?: { id?: string; name: string; operations: string[] }[];
  users?: {
    username: string;
    id?: string;
    /** Permission names assigned to the user (by seed permission name). */
    permissions?: string[];
    credentials: { credId: string; publicKeyPem: string; name?: string }[];
  }[];
  serviceAccounts?: (SeededToken & { name: string; id?: string })[];
  pats?: (SeededToken & {
    name: string;
    /** Owner, by username. */
    owner: string;
  })[];
  /** Generate this many extra SAs / PATs (for benchmarks), ages spread uniformly over [0, maxAgeDays]. */
  generate?: { serviceAccounts?: number; pats?: number; patOwner?: string; maxAgeDays?: number; daysValid?: number };
}

export interface SimStats {
  /** Requests received, including faulted ones. */
  requests: number;
  byOperation: Partial<Record<SimOperation, number>>;
  /** By HTTP status, plus `dropped` for destroyed sockets. */
  byStatus: Record<string, number>;
  /** 429s sent by the rate limit (an injected `rate-limited` fault counts in faultsInjected). */
  rateLimited: number;
  faultsInjected: number;
  /** Simulator-clock arrival time (ms) of every request, in order: for rate assertions. */
  arrivals: number[];
}

/** `byStatus` key for requests whose socket was destroyed (drop-before / drop-after faults). */
export const DROPPED_STATUS = 'dropped';

export interface SimulatorOptions {
  host?: string;
  /** 0 or omitted: a free port. */
  port?: number;
  seed?: SeedFile;
  /** Default: a ManualClock starting at the real now (moves only when told to). */
  clock?: Clock & { advance?(ms: number): void; set?(to: number | Date): void };
  knobs?: Partial<SimKnobs>;
  /** Request log at debug level (method, path, operation, status; never headers or bodies). */
  logger?: Logger;
}

export interface RunningSimulator {
  url: string;
  orgId: string;
  /** The clock every rule uses (token expiry, challenge TTL, rate-limit windows, dateCreated). */
  clock: { now(): number; advance(ms: number): void; set(to: number | Date): void };
  knobs: SimKnobs;
  setKnobs(patch: Partial<SimKnobs>): void;
  /** Tokens minted for seeded SAs/PATs, by name: tests use them as "tokens we hold". */
  seededTokens: ReadonlyMap<string, string>;
  /** Every signed action recorded so far, oldest first (what `GET /auth/action/logs` serves). */
  actionLog(): readonly SimActionLogEntry[];
  /** Calls `listener` as each request arrives, before it is handled (tests: act at a precise moment). Returns the unsubscribe. */
  onArrival(listener: (arrival: { method: string; path: string; operation: SimOperation | undefined }) => void): () => void;
  /** Adds a service account at once, as another team would (tests: a credential the rotator must never touch). Returns its user id. */
  addServiceAccount(input: { name: string; publicKeyPem: string; externalId?: string }): string;
  /** Adds a PAT of an org user at once (e.g. made by that person by hand). Returns its token id. */
  addPat(input: { owner: string; name: string; publicKeyPem: string; externalId?: string }): string;
  stats(): SimStats;
  resetStats(): void;
  close(): Promise<void>;
}
