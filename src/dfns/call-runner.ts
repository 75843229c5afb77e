import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Random } from './backoff.js';
import { DfnsApiError, type DfnsCreateOutcomeLostError } from './errors.js';
import { classifyFailure, type AttemptFailure } from './failure.js';
import type { RequestBudget } from './request-budget.js';
import { planRetry, type RetryPolicy } from './retry.js';
import { runInTransport, type RequestObserver } from './transport.js';

/** Where a call's bearer token comes from: a fixed token, or the operator's login session. */
export interface TokenSource {
  token(): Promise<string>;
  /** Called once per call after a 401 with the token that failed; present only when a new token can be had. */
  renew?(failed: string): void;
}

export interface CallSpec<R, T> {
  /** The port operation, named in every error. */
  operation: string;
  /** One attempt: the SDK call(s), given the bearer token (undefined for login). */
  invoke(token: string | undefined): Promise<R>;
  /** Validates the answer (throws DfnsInvalidAnswerError). */
  parse(raw: R): T;
  /**
   * For non-idempotent creates: after an ambiguous outcome (or a 409 following one), look the
   * record up. Returns the record when the create happened and nothing was lost, throws
   * DfnsCreateOutcomeLostError when it happened but its one-time token was lost, returns
   * undefined when it did not happen (then the create is retried).
   */
  reconcile?(cause: DfnsApiError): Promise<T | undefined>;
}

export interface CallRunnerDeps {
  limiter: RequestBudget;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  observer?: RequestObserver;
}

/**
 * Runs one port operation: timeouts, rate limit and request bookkeeping (transport), retries with
 * backoff, one re-login after a 401, and reconciliation of creates whose outcome is unknown.
 */
export class CallRunner {
  constructor(private readonly deps: CallRunnerDeps) {}

  async run<R, T>(spec: CallSpec<R, T>, tokens?: TokenSource): Promise<T> {
    const { deps } = this;
    let attempt = 0;
    let waitedMs = 0;
    let renewed = false;
    let sawAmbiguous = false;
    for (;;) {
      attempt += 1;
      const token = tokens ? await tokens.token() : undefined;
      const context = { operation: spec.operation, timeoutMs: deps.timeoutMs, limiter: deps.limiter, ...(deps.observer ? { observer: deps.observer } : {}) };
      const result = await runInTransport(context, () => spec.invoke(token));

      let failure: AttemptFailure;
      if (result.ok) {
        try {
          return spec.parse(result.value);
        } catch (err) {
          if (!(err instanceof DfnsApiError)) throw err;
          // A create answered 2xx but unreadable: it happened; its token may be lost.
          const lastSigned = result.requests.at(-1)?.signed === true;
          failure = { error: err, retryable: false, ambiguous: lastSigned };
        }
      } else {
        failure = classifyFailure(spec.operation, result.error, result.requests, { timeoutMs: deps.timeoutMs, nowMs: deps.clock.now() });
      }

      if (failure.error.code === 'DFNS_UNAUTHORIZED' && tokens?.renew && token !== undefined && !renewed) {
        // The login token expired or was revoked early: log in again once and redo the call.
        renewed = true;
        tokens.renew(token);
        deps.logger.info({ operation: spec.operation }, 'Dfns answered 401; logging in again');
        continue;
      }

      const conflictAfterAmbiguous = sawAmbiguous && failure.error.code === 'DFNS_CONFLICT';
      if (failure.ambiguous) sawAmbiguous = true;
      let lookedUpAbsent = false;
      if (spec.reconcile && (failure.ambiguous || conflictAfterAmbiguous)) {
        const found = await this.#reconcile(spec, failure.error, attempt);
        if (found !== undefined) return found;
        // Not found: the create did not happen, so resending it is safe (if retryable).
        if (conflictAfterAmbiguous) throw finalize(failure.error, attempt);
        lookedUpAbsent = true;
      }

      if (failure.error.code === 'DFNS_RATE_LIMITED') {
        // The org is over its limit (our budget or the customer's own traffic): every client on
        // it is refused. Slow the shared budget down whether or not this call retries.
        const startedAt = result.requests.at(-1)?.startedAt ?? deps.clock.now();
        const retryAfterMs = failure.retryAfterMs === undefined ? undefined : Math.min(failure.retryAfterMs, deps.retry.maxRetryAfterMs);
        await deps.limiter.throttled({ startedAt, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }).catch((err: unknown) => {
          deps.logger.warn({ operation: spec.operation, err: (err as Error).message }, 'could not record a 429 in the request budget');
        });
      }

      const plan = planRetry(failure, attempt, waitedMs, deps.retry, deps.random);
      if (!plan.retry) {
        const final = finalize(failure.error, attempt);
        if (lookedUpAbsent) {
          final.message += '; looked up afterwards: it was not created, so creating again is safe';
        } else if (sawAmbiguous && !failure.ambiguous && !failure.retryable) {
          // e.g. a 404 when re-archiving: the lost first attempt probably did the work.
          final.message += '; an earlier attempt whose outcome was unknown may already have applied this change';
        }
        throw final;
      }
      deps.logger.warn(
        { operation: spec.operation, attempt, code: failure.error.code, status: failure.error.status, delayMs: plan.delayMs },
        'Dfns call failed; retrying',
      );
      waitedMs += plan.delayMs;
      await deps.sleep(plan.delayMs);
    }
  }

  async #reconcile<R, T>(spec: CallSpec<R, T>, error: DfnsApiError, attempt: number): Promise<T | undefined> {
    try {
      return await spec.reconcile!(error);
    } catch (err) {
      if (isCreateLost(err)) {
        err.attempts = attempt;
        throw err;
      }
      // Unknown whether the create happened, and unknowable for now: never resend blindly.
      const reason = err instanceof DfnsApiError ? err.code : 'unexpected error';
      const final = finalize(error, attempt);
      final.message += `; outcome unknown: looking the record up failed (${reason}); reconcile before creating again`;
      throw final;
    }
  }
}

function isCreateLost(err: unknown): err is DfnsCreateOutcomeLostError {
  return err instanceof DfnsApiError && err.code === 'DFNS_CREATE_LOST';
}

function finalize(error: DfnsApiError, attempts: number): DfnsApiError {
  error.attempts = attempts;
  if (attempts > 1 && !error.message.includes(' attempts)')) error.message += ` (gave up after ${attempts} attempts)`;
  return error;
}
