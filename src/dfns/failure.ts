import { parseRetryAfter } from './backoff.js';
import {
  DfnsApiError,
  DfnsClientError,
  DfnsInvalidAnswerError,
  DfnsNetworkError,
  DfnsTimeoutError,
  dfnsErrorFromStatus,
} from './errors.js';
import type { RequestOutcome, RequestRecord } from './transport.js';

/** What one failed attempt means for the retry layer. */
export interface AttemptFailure {
  /** The typed error to throw if this is the last attempt. */
  error: DfnsApiError;
  retryable: boolean;
  /**
   * The request that failed carried a user action, and its outcome is unknown (timeout, dropped
   * connection, 5xx) or its 2xx answer was unreadable: Dfns may have applied the change. A failure
   * of `/auth/action/init` or `/auth/action` is never ambiguous: nothing was mutated yet.
   */
  ambiguous: boolean;
  /** Milliseconds from a `Retry-After` header. */
  retryAfterMs?: number;
}

/** Connection errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Turns whatever an SDK call threw, plus the requests the transport saw, into a typed error.
 * The status comes from the transport's record, not the SDK error, so a non-JSON error body
 * (which makes the SDK throw a SyntaxError) still maps by status. Messages never quote bodies:
 * node-fetch's JSON errors include a snippet of the body, which for a create is the token.
 */
export function classifyFailure(
  operation: string,
  thrown: unknown,
  requests: readonly RequestRecord[],
  context: { timeoutMs: number; nowMs: number },
): AttemptFailure {
  if (thrown instanceof DfnsApiError) return { error: thrown, retryable: thrown.retryable, ambiguous: false };

  const last = requests.at(-1);
  if (sdkHttpStatus(thrown) === -1 || !last?.outcome || (isSuccess(last.outcome) && !isUnreadableBody(thrown))) {
    // Thrown in this process, before sending or between requests: a signer refusing a challenge
    // whose allowed credentials do not include our credId, a missing signer, an org mismatch.
    return { error: new DfnsClientError(`failed in this process, nothing was changed: ${clientMessage(thrown)}`, { operation }), retryable: false, ambiguous: false };
  }

  const where = `${last.method} ${last.route}`;
  const outcome = last.outcome;
  if (outcome.kind === 'timeout') {
    const error = new DfnsTimeoutError(`no answer within ${context.timeoutMs} ms to ${where}`, { operation, path: last.route });
    return { error, retryable: true, ambiguous: last.signed };
  }
  if (outcome.kind === 'network') {
    const error = new DfnsNetworkError(`connection failed (${outcome.code}) on ${where}`, { operation, path: last.route, cause: thrown });
    return { error, retryable: true, ambiguous: last.signed && !NOT_SENT_CODES.has(outcome.code) };
  }

  const status = outcome.status;
  if (status === 202 || status >= 400) {
    const retryAfterMs = parseRetryAfter(outcome.retryAfter, context.nowMs);
    const details = {
      operation,
      path: last.route,
      ...(outcome.dfnsErrorId ? { dfnsErrorId: outcome.dfnsErrorId } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
      ...(outcome.approvalId ? { approvalId: outcome.approvalId } : {}),
    };
    const error = dfnsErrorFromStatus(status, outcome.dfnsMessage ?? sdkMessage(thrown), details);
    const failure: AttemptFailure = { error, retryable: error.retryable, ambiguous: status >= 500 && last.signed };
    if (retryAfterMs !== undefined && (status === 429 || status === 503)) failure.retryAfterMs = retryAfterMs;
    return failure;
  }

  // 2xx, yet the SDK threw: the body could not be read (not JSON, cut short).
  const error = new DfnsInvalidAnswerError(`answer to ${where} (HTTP ${status}) could not be read as JSON`, { operation, path: last.route, status });
  return { error, retryable: false, ambiguous: last.signed };
}

/** A 2xx other than 202 (which the SDK turns into PolicyPendingError). */
function isSuccess(outcome: RequestOutcome): boolean {
  return outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300 && outcome.status !== 202;
}

/** node-fetch's `response.json()` failure (FetchError type `invalid-json`) or a bare SyntaxError. */
function isUnreadableBody(err: unknown): boolean {
  if (err instanceof SyntaxError) return true;
  return !!err && typeof err === 'object' && (err as { type?: unknown }).type === 'invalid-json';
}

function sdkHttpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && typeof (err as { httpStatus?: unknown }).httpStatus === 'number') {
    return (err as { httpStatus: number }).httpStatus;
  }
  return undefined;
}

function sdkMessage(err: unknown): string | undefined {
  if (err && typeof err === 'object' && (err as { name?: unknown }).name === 'DfnsError') {
    const message = (err as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  }
  return undefined;
}

/** Client-side errors come from the SDK's own checks or node:crypto; neither quotes keys or tokens. */
function clientMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return 'unknown error';
}
