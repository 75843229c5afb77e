import type { CredentialKind, CredentialState, ExpirySource, Strategy } from '../model.js';

/**
 * What the worker tells people. Every field is safe to show on Slack: names, ids, dates and
 * reasons, never a token, key or webhook URL.
 */

export interface CredentialSummary {
  key: string;
  kind: CredentialKind;
  id: string;
  name: string;
  owner?: string;
  /** Epoch ms or null. */
  expiresAt: number | null;
  expirySource: ExpirySource;
  strategy: Strategy;
  managed: boolean;
  isOwnIdentity?: boolean;
}

export type Notification =
  | {
      type: 'expiry-warning';
      credential: CredentialSummary;
      state: Extract<CredentialState, 'warn' | 'rotate' | 'expired' | 'unknown'>;
      /** The threshold crossed, in days (e.g. 7); null for expired/unknown. */
      thresholdDays: number | null;
      daysLeft: number | null;
      /** What happens next or what a person must do, e.g. "rotation queued", "rotate it by hand in the Dfns dashboard". */
      nextAction: string;
    }
  | {
      /** Warnings beyond the per-scan limit, in one message (a first scan of a big org must not post for an hour). */
      type: 'expiry-batch';
      scanId: string;
      at: number;
      /** How many warnings this message stands for. */
      count: number;
      counts: Partial<Record<'expired' | 'rotate' | 'warn' | 'unknown', number>>;
      /** The most urgent of them, already sorted. */
      examples: { credential: CredentialSummary; state: CredentialState; daysLeft: number | null }[];
    }
  | {
      type: 'scan-digest';
      scanId: string;
      at: number;
      total: number;
      counts: Record<CredentialState, number>;
      /** The most urgent credentials, already sorted. */
      urgent: { credential: CredentialSummary; state: CredentialState; daysLeft: number | null }[];
      rotationsQueued: number;
      errors: { identity: string; message: string }[];
    }
  | {
      type: 'rotation-succeeded';
      rotationId: string;
      credential: CredentialSummary;
      /** The new credential's Dfns id. */
      newCredentialId: string;
      newExpiresAt: number | null;
      retireAt: number;
      reason: string;
    }
  | {
      type: 'rotation-failed';
      rotationId: string;
      credential: CredentialSummary;
      step: string;
      /** A message naming what failed; no secrets. */
      error: string;
      /** What is still true: "the current credential is untouched and keeps working". */
      impact: string;
      /** What a person should do. */
      action: string;
    }
  | {
      /** A rotation goes on (or waits) but a person must look at something: nothing was retired or harmed. */
      type: 'rotation-attention';
      rotationId: string;
      credential: CredentialSummary;
      step: string;
      /** What was seen, naming ids; no secrets. */
      problem: string;
      /** What the rotator did about it, and what is still true. */
      impact: string;
      action: string;
    }
  | {
      type: 'rotation-parked';
      rotationId: string;
      credential: CredentialSummary;
      step: string;
      approvalId?: string;
      action: string;
    }
  | {
      /** A secret in the store could not be read: its credential is not rotated until repaired. */
      type: 'store-damaged';
      secretName: string;
      where: string;
      problem: string;
      action: string;
    }
  | {
      type: 'credential-retired';
      rotationId: string;
      credential: CredentialSummary;
      /** `deactivated` after the overlap, `archived` later. */
      outcome: 'deactivated' | 'archived';
    }
  | {
      /** The old credential still signs actions (Dfns' audit log): its retirement waits. */
      type: 'retire-postponed';
      rotationId: string;
      credential: CredentialSummary;
      /** `postponed` until `retireAt`; `held` at the maximum overlap: a person decides. */
      outcome: 'postponed' | 'held';
      /** Epoch ms of the old credential's last signed action seen. */
      lastUseAt: number;
      /** When the next check (and retirement, if unused) is due; null when held. */
      retireAt: number | null;
      /** The latest the overlap is stretched to (promotion + the configured maximum). */
      maxRetireAt: number;
      /** The new credential's id, which consumers should be using. */
      newCredentialId: string | null;
    };

export type NotificationType = Notification['type'];

/** A rendered message: Slack Block Kit blocks plus the plain-text fallback. */
export interface RenderedMessage {
  text: string;
  blocks: unknown[];
}

/**
 * Delivers one notification. Throws a `NotifyError` (see errors.ts) the queue can act on:
 * rate limited (with the wait), transient (retry), permanent (give up, log).
 */
export interface Notifier {
  /** e.g. `slack:hooks.slack.com/services/***` or `log`; no secrets. */
  readonly description: string;
  send(notification: Notification): Promise<void>;
}
