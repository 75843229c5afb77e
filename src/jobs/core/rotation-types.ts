import type { KeyAlgorithm } from '../../dfns/port.js';
import type { CredentialKind, Strategy } from '../../model.js';

/**
 * A rotation's durable state. Ids, names and steps only — never a token or a key: it lives in
 * Redis, where job data is plain text. The secret material lives in the store's `pending`
 * version, which this record points at by `pendingVersionId`.
 */

export type RotationStrategy = 'replace' | 'rekey';

/**
 * What the configured rules said of the credential when its rotation was planned: resolved once
 * (`planRotation`) and carried on the record, so every later step and attempt works to the same
 * policy (`policyOfRotation` in rotation-policy.ts).
 */
export interface RotationPolicy {
  /** The configured strategy (the rotation's own may be an override: `RotationRecord.strategy`). */
  strategy: Strategy;
  rekeyFallback: 'replace' | 'notify';
  keyAlgorithm: KeyAlgorithm;
}

export type RotationStep =
  /** Minted; nothing written anywhere else yet. */
  | 'planned'
  /** A fresh keypair is in the store as `pending`; Dfns has not been called. */
  | 'staged'
  /** Create attempt `attempt` may have reached Dfns; its outcome is not recorded yet (reconcile on resume). */
  | 'creating'
  /** Dfns created the credential and its token/credential id is in the `pending` version. */
  | 'created'
  /** The new token and key were proven to work against Dfns. */
  | 'verified'
  /** `pending` became `current`; the old credential is `previous` and still active. */
  | 'promoted'
  /** Slack and audit were told. */
  | 'announced'
  /** The retire job is scheduled after the overlap window: the rotate job is done. */
  | 'retire-scheduled'
  /** The old credential is deactivated; archive follows later. */
  | 'deactivated'
  /** Terminal, success: the old credential is archived and its key dropped from the store. */
  | 'done'
  /** The new credential failed or a permanent error came after create: it is being removed. */
  | 'rolling-back'
  /** Terminal: the new credential was removed; `current` is untouched and working. */
  | 'rolled-back'
  /** Terminal: stopped by a permanent error before anything was created; `current` untouched. */
  | 'failed'
  /** A Dfns policy holds the create for approval; waits for a manual re-trigger. */
  | 'parked';

export const TERMINAL_STEPS: ReadonlySet<RotationStep> = new Set(['done', 'rolled-back', 'failed']);
/** Steps after which the old credential may be retired (never before promote). */
export const PROMOTED_STEPS: ReadonlySet<RotationStep> = new Set(['promoted', 'announced', 'retire-scheduled', 'deactivated', 'done']);

export interface RotationError {
  code: string;
  message: string;
  step: RotationStep;
}

export interface RotationRecord {
  rotationId: string;
  secretName: string;
  kind: CredentialKind;
  strategy: RotationStrategy;
  reason: string;
  requestedBy: string;
  /** The credential being replaced, as it was when the rotation was planned. */
  old: {
    credentialId: string;
    versionId: number;
    credId: string;
    name: string;
    /** Permission ids the replacement must carry (service accounts and PATs). */
    permissionIds: string[];
    /** Lifetime to give the replacement, days. */
    daysValid: number;
  };
  /** The credential's policy as planned. Absent in records written before it existed (`policyOfRotation` resolves it then). */
  policy?: RotationPolicy;
  step: RotationStep;
  /** Create attempts so far; a lost create (orphan) moves to the next attempt, with a new name. */
  attempt: number;
  /**
   * Epoch ms when the first create attempt began: a listed credential created before it is not
   * this rotation's. Absent in records written before it existed.
   */
  createBegunAt?: number | null;
  pendingVersionId: number | null;
  /** What Dfns created (no token: that is in the store). */
  created: { credentialId: string; credId: string; name: string; expiresAt: number | null; permissionIds?: string[] } | null;
  /** Credentials created by a lost attempt, cleaned up (deactivated, then archived) before retrying. */
  orphans: { credentialId: string; cleaned: boolean }[];
  /**
   * What the listing of the scan that queued this rotation showed under the first replacement
   * name (an id, or null: free). A first create uses it instead of listing again; any later
   * attempt, and a 409, ask Dfns.
   */
  nameSeen?: { name: string; holder: string | null; at: number };
  /** The step the rollback started from and why. */
  error: RotationError | null;
  approvalId: string | null;
  createdAt: number;
  updatedAt: number;
  promotedAt: number | null;
  /** When the retire job deactivates the old credential. */
  retireAt: number | null;
  deactivatedAt: number | null;
  /** What Dfns' audit log told about the old credential before retiring it (absent: not checked yet). */
  usage?: RetireUsage;
  /** Optimistic-concurrency counter of the record itself. */
  revision: number;
}

/**
 * Whether consumers moved off the old credential, as far as Dfns' audit log of signed actions
 * shows (reads are invisible to it). Ids and times only.
 */
export interface RetireUsage {
  /**
   * `unused`: no signed action since promotion (+ grace); `in-use`: it still signs, retirement
   * postponed; `held`: still in use at the maximum overlap, a person decides; `forced`: a person
   * decided to retire anyway; `not-visible`: the audit log could not be read (no `Auth:Logs:Read`),
   * the overlap rule alone applies; `off`: the check is disabled in the config.
   */
  status: 'unused' | 'in-use' | 'held' | 'forced' | 'not-visible' | 'off';
  checkedAt: number;
  /** The log was read up to here; the next check starts from it. */
  checkedUntil: number | null;
  /** Last signed action of the old credential seen after promotion (+ grace), epoch ms. */
  lastUseAt: number | null;
  postponements: number;
  /** Why the log could not be read, or who forced. */
  note?: string;
}

/** What the rotate/retire processors must do next. Computed from the record alone. */
export type RotationEffect =
  | { type: 'stage' }
  /** Record `creating` for this attempt before calling Dfns, so a crash after the call is reconciled. */
  | { type: 'begin-create'; attempt: number }
  | { type: 'create'; attempt: number; name: string; externalId: string }
  /** A create of this attempt may have happened: look in the store, then in Dfns. */
  | { type: 'reconcile'; attempt: number; name: string; externalId: string }
  | { type: 'clean-orphan'; credentialId: string }
  | { type: 'verify' }
  | { type: 'promote' }
  | { type: 'announce' }
  | { type: 'schedule-retire' }
  | { type: 'rollback' }
  | { type: 'deactivate-old' }
  | { type: 'archive-old' }
  /** Nothing to do in this job: the rotation waits (parked, or retire not yet due) or is finished. */
  | { type: 'wait'; why: string }
  /** The old credential is still in use at the maximum overlap: nothing happens until a person forces it. */
  | { type: 'held'; why: string }
  | { type: 'finished' };

export type RotationEvent =
  | { type: 'staged'; pendingVersionId: number }
  | { type: 'create-begun'; attempt: number }
  /** `permissionIds`: what Dfns' create answer said the new credential was given (absent when it did not say). */
  | { type: 'created'; credentialId: string; credId: string; name: string; expiresAt: number | null; permissionIds?: string[] }
  /** Credentials proven this rotation's (key, externalId, time) found in Dfns without their token in the store. */
  | { type: 'orphan-found'; credentialIds: string[]; note?: string }
  /** Reconciling found nothing: the attempt can be sent again. */
  | { type: 'nothing-created' }
  /**
   * The attempt's name is held by a credential not proven ours (seen before creating, or a 409):
   * it is left alone and the next attempt uses the next name. `note` says who holds it and why.
   */
  | { type: 'name-taken'; note?: string }
  | { type: 'orphan-cleaned'; credentialId: string }
  | { type: 'verified' }
  | { type: 'promoted'; at: number }
  | { type: 'announced' }
  | { type: 'retire-scheduled'; retireAt: number }
  | { type: 'rolled-back' }
  /** The audit log was read before retiring; `retireAt` moves when the old credential is still in use. */
  | { type: 'usage-checked'; usage: RetireUsage; retireAt: number | null }
  | { type: 'deactivated'; at: number }
  | { type: 'archived' }
  /** `rekey` refused (403) and the policy falls back to `replace`: the staged key is reused. */
  | { type: 'switched-to-replace' }
  | { type: 'permanent-failure'; error: RotationError }
  | { type: 'parked'; approvalId: string | null }
  | { type: 'resumed' };

/** Create attempts before giving up (each lost attempt leaves an orphan to clean). */
export const MAX_CREATE_ATTEMPTS = 5;
