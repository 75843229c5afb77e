import { RotatorError } from '../errors.js';

/**
 * Typed Dfns API failures. `toDfnsError` (in this file) is the one place an HTTP status or a
 * transport failure becomes one of these; the rest of the code decides what to do by `code`.
 * Every error names the port operation that failed (`createServiceAccount`, ...) and never
 * carries a token, key or user-action header.
 */
export type DfnsErrorCode =
  | 'DFNS_VALIDATION'
  | 'DFNS_UNAUTHORIZED'
  | 'DFNS_PAYMENT_REQUIRED'
  | 'DFNS_FORBIDDEN'
  | 'DFNS_NOT_FOUND'
  | 'DFNS_CONFLICT'
  | 'DFNS_RATE_LIMITED'
  | 'DFNS_POLICY_PENDING'
  | 'DFNS_SERVER'
  | 'DFNS_TIMEOUT'
  | 'DFNS_NETWORK'
  | 'DFNS_INVALID_ANSWER'
  | 'DFNS_CLIENT'
  | 'DFNS_CREATE_LOST';

export interface DfnsErrorDetails {
  /** The port operation, e.g. `createServiceAccount`. */
  operation: string;
  /** HTTP status when Dfns answered; undefined for timeouts and network failures. */
  status?: number;
  /** Dfns' own error id (`error.id`) when it sent one: quote it to Dfns support. */
  dfnsErrorId?: string;
  /** How many attempts were made before giving up (1 when not retried). */
  attempts?: number;
  /** Seconds Dfns asked us to wait (429 `Retry-After`). */
  retryAfterSeconds?: number;
  /** The request path (no query string, no secrets), e.g. `/auth/service-accounts`. */
  path?: string;
  cause?: unknown;
}

export abstract class DfnsApiError extends RotatorError {
  abstract override readonly code: DfnsErrorCode;
  readonly operation: string;
  readonly status: number | undefined;
  readonly dfnsErrorId: string | undefined;
  readonly path: string | undefined;
  attempts: number;

  constructor(message: string, details: DfnsErrorDetails, retryable: boolean) {
    super('DFNS', `${details.operation}: ${message}`, { cause: details.cause, retryable });
    this.operation = details.operation;
    this.status = details.status;
    this.dfnsErrorId = details.dfnsErrorId;
    this.path = details.path;
    this.attempts = details.attempts ?? 1;
  }
}

/** 400: Dfns rejected the request as invalid. Nothing changed; retrying the same request will fail again. */
export class DfnsValidationError extends DfnsApiError {
  readonly code = 'DFNS_VALIDATION' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 401: the bearer token is missing, invalid or expired. Nothing changed; a fresh login may help, a retry will not. */
export class DfnsUnauthorizedError extends DfnsApiError {
  readonly code = 'DFNS_UNAUTHORIZED' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 402: the org's plan does not include this feature. Nothing changed. */
export class DfnsPaymentRequiredError extends DfnsApiError {
  readonly code = 'DFNS_PAYMENT_REQUIRED' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 403: a missing permission, a forbidden caller kind, or a refused user-action signature. Nothing changed. */
export class DfnsForbiddenError extends DfnsApiError {
  readonly code = 'DFNS_FORBIDDEN' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 404: no such resource in this org (or it belongs to another org). */
export class DfnsNotFoundError extends DfnsApiError {
  readonly code = 'DFNS_NOT_FOUND' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 409: a unique name or `externalId` is taken. A create may already have happened: reconcile by listing. */
export class DfnsConflictError extends DfnsApiError {
  readonly code = 'DFNS_CONFLICT' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** 429 after the retry budget ran out. The request was not processed; safe to retry later. */
export class DfnsRateLimitedError extends DfnsApiError {
  readonly code = 'DFNS_RATE_LIMITED' as const;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, d: DfnsErrorDetails) {
    super(message, d, true);
    this.retryAfterSeconds = d.retryAfterSeconds;
  }
}

/**
 * 202: a Dfns policy holds the operation for approval. The change has NOT happened yet and may
 * happen later when someone approves: park, alert, and reconcile on resume. Never spin on it.
 */
export class DfnsPolicyPendingError extends DfnsApiError {
  readonly code = 'DFNS_POLICY_PENDING' as const;
  /** The approval id when Dfns sent one. */
  readonly approvalId: string | undefined;
  constructor(message: string, d: DfnsErrorDetails & { approvalId?: string }) {
    super(message, d, false);
    this.approvalId = d.approvalId;
  }
}

/** 5xx after the retry budget ran out. For a mutation the outcome is unknown: reconcile before redoing it. */
export class DfnsServerError extends DfnsApiError {
  readonly code = 'DFNS_SERVER' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, true); }
}

/** No answer within the timeout, after the retry budget ran out. For a mutation the outcome is unknown. */
export class DfnsTimeoutError extends DfnsApiError {
  readonly code = 'DFNS_TIMEOUT' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, true); }
}

/** Connection refused, reset or dropped, after the retry budget ran out. For a mutation the outcome is unknown. */
export class DfnsNetworkError extends DfnsApiError {
  readonly code = 'DFNS_NETWORK' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, true); }
}

/** Dfns answered 2xx with a body that does not match the documented shape. The message names the fields. */
export class DfnsInvalidAnswerError extends DfnsApiError {
  readonly code = 'DFNS_INVALID_ANSWER' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/** The request never left this process (e.g. our key is not among the credentials Dfns allows). */
export class DfnsClientError extends DfnsApiError {
  readonly code = 'DFNS_CLIENT' as const;
  constructor(message: string, d: DfnsErrorDetails) { super(message, d, false); }
}

/**
 * A create (service account or PAT) whose answer was lost DID happen: listing after an ambiguous
 * outcome found the record. Its access token, shown only once, is gone, so the record is an
 * orphan that must be deactivated and archived (the rotation engine does this by `recordId`)
 * before the create is tried again. Not retryable as is: resending would make a second orphan.
 */
export class DfnsCreateOutcomeLostError extends DfnsApiError {
  readonly code = 'DFNS_CREATE_LOST' as const;
  readonly recordKind: 'serviceAccount' | 'personalAccessToken';
  /** The id to retire: `us-…` for a service account, `to-…` for a PAT. */
  readonly recordId: string;
  constructor(
    message: string,
    d: DfnsErrorDetails & { recordKind: 'serviceAccount' | 'personalAccessToken'; recordId: string },
  ) {
    super(message, d, false);
    this.recordKind = d.recordKind;
    this.recordId = d.recordId;
  }
}

/**
 * Maps an HTTP status (and Dfns' error body) to a typed error. `message` is Dfns' own
 * `error.message`, which never echoes credentials.
 */
export function dfnsErrorFromStatus(
  status: number,
  message: string | undefined,
  details: Omit<DfnsErrorDetails, 'status'>,
): DfnsApiError {
  const d = { ...details, status };
  const text = `${message ?? 'no message'} (HTTP ${status}${details.dfnsErrorId ? `, Dfns error id ${details.dfnsErrorId}` : ''})`;
  switch (status) {
    case 202: return new DfnsPolicyPendingError(`held for policy approval ${text}`, d);
    case 400: return new DfnsValidationError(`rejected as invalid: ${text}`, d);
    case 401: return new DfnsUnauthorizedError(`token missing, invalid or expired: ${text}`, d);
    case 402: return new DfnsPaymentRequiredError(`not in the org's plan: ${text}`, d);
    case 403: return new DfnsForbiddenError(`forbidden: ${text}`, d);
    case 404: return new DfnsNotFoundError(`not found: ${text}`, d);
    case 409: return new DfnsConflictError(`conflict: ${text}`, d);
    case 429: return new DfnsRateLimitedError(`rate limited: ${text}`, d);
    default:
      if (status >= 500) return new DfnsServerError(`server error: ${text}`, d);
      return new DfnsValidationError(`unexpected status: ${text}`, d);
  }
}
