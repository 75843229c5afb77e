import { RotatorError, errorCode } from '../errors.js';

/**
 * Why a notification was not delivered, as the notify queue needs to know it: wait and retry,
 * retry with backoff, or give up. Codes are plain strings because failures come back from
 * BullMQ through Redis; `notifyRetryAfterMs` and `isPermanentNotifyError` read them from
 * anything thrown. Messages name the target by its masked description (`slack:host/***`),
 * never the webhook URL, and carry no library error as `cause` (it could hold the URL).
 * A notification failure never fails a rotation: callers log it and move on.
 */
export type NotifyErrorCode = 'NOTIFY_RATE_LIMITED' | 'NOTIFY_TRANSIENT' | 'NOTIFY_PERMANENT';

export interface NotifyErrorDetails {
  /** The notifier's masked description, e.g. `slack:hooks.slack.com/***`. */
  target: string;
  /** HTTP status when the server answered. */
  status?: number;
  /** Slack's error string from the body (`no_service`, `invalid_token`, …), when it sent one. */
  slackError?: string;
}

export abstract class NotifyError extends RotatorError {
  abstract override readonly code: NotifyErrorCode;
  readonly target: string;
  readonly status: number | undefined;
  readonly slackError: string | undefined;

  constructor(message: string, details: NotifyErrorDetails, retryable: boolean) {
    super('NOTIFY', `${details.target}: ${message}`, { retryable });
    this.target = details.target;
    this.status = details.status;
    this.slackError = details.slackError;
  }
}

/** 429: Slack asked us to wait. Nothing was posted; post again after `retryAfterMs`. */
export class NotifyRateLimitedError extends NotifyError {
  readonly code = 'NOTIFY_RATE_LIMITED' as const;
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, details: NotifyErrorDetails) {
    super(`rate limited; retry after ${retryAfterMs} ms`, details, true);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * 5xx, a dropped connection or a timeout. The message may or may not have been posted (a timeout
 * can hide a success); retrying with backoff is right, and a rare duplicate is the lesser harm.
 */
export class NotifyTransientError extends NotifyError {
  readonly code = 'NOTIFY_TRANSIENT' as const;
  constructor(message: string, details: NotifyErrorDetails) {
    super(message, details, true);
  }
}

/**
 * 4xx other than 429 (removed webhook, revoked token, archived channel, rejected payload) or a
 * misconfigured URL. Nothing was posted and retrying cannot help: a person must fix the webhook.
 */
export class NotifyPermanentError extends NotifyError {
  readonly code = 'NOTIFY_PERMANENT' as const;
  constructor(message: string, details: NotifyErrorDetails) {
    super(message, details, false);
  }
}

/** The wait a rate-limited failure asked for, read by `code` so it also works on a deserialised error. */
export function notifyRetryAfterMs(err: unknown): number | undefined {
  if (errorCode(err) !== 'NOTIFY_RATE_LIMITED') return undefined;
  const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** True when retrying this notification cannot succeed. */
export function isPermanentNotifyError(err: unknown): boolean {
  return errorCode(err) === 'NOTIFY_PERMANENT';
}
