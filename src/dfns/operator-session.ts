import type { Clock } from '../clock.js';
import { DfnsInvalidAnswerError } from './errors.js';
import { readTokenExpiry } from './jwt.js';
import type { TokenSource } from './call-runner.js';

export const DEFAULT_LOGIN_REFRESH_MARGIN_MS = 120_000;

export interface OperatorSessionOptions {
  /** Performs one login (`/auth/login/init` + `/auth/login`, with retries) and returns the login token. */
  login: () => Promise<string>;
  clock: Clock;
  /** Log in again this long before the token's `exp`, so a call never starts with a token about to lapse. */
  refreshMarginMs?: number;
}

/**
 * The operator's login token (an org user's JWT; its lifetime is UNCONFIRMED, dfns-api.md §5).
 * Cached until `refreshMarginMs` before its `exp`; concurrent callers share one login in flight;
 * after a 401 the failed token is dropped so the next call logs in again. A token without `exp`
 * is kept until a 401 says otherwise.
 */
export class OperatorSession implements TokenSource {
  readonly #login: () => Promise<string>;
  readonly #clock: Clock;
  readonly #marginMs: number;
  #cached: { token: string; refreshAt: number } | undefined;
  #inFlight: Promise<string> | undefined;
  #logins = 0;

  constructor(options: OperatorSessionOptions) {
    this.#login = options.login;
    this.#clock = options.clock;
    this.#marginMs = options.refreshMarginMs ?? DEFAULT_LOGIN_REFRESH_MARGIN_MS;
    if (!Number.isFinite(this.#marginMs) || this.#marginMs < 0) {
      throw new RangeError(`refreshMarginMs must be >= 0, got ${this.#marginMs}`);
    }
  }

  /** How many logins were made: for tests and metrics. */
  get logins(): number {
    return this.#logins;
  }

  token(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#clock.now() < cached.refreshAt) return Promise.resolve(cached.token);
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Drops `failed` if it is still the cached token (a concurrent caller may already have replaced it). */
  renew(failed: string): void {
    if (this.#cached?.token === failed) this.#cached = undefined;
  }

  async #refresh(): Promise<string> {
    this.#logins += 1;
    const token = await this.#login();
    const expiry = readTokenExpiry(token);
    if (expiry.kind === 'malformed') {
      throw new DfnsInvalidAnswerError(`login token is not a readable JWT (${expiry.reason})`, { operation: 'operatorLogin' });
    }
    const refreshAt = expiry.kind === 'expires' ? expiry.expiresAt - this.#marginMs : Number.POSITIVE_INFINITY;
    // A token already inside the margin is still used for this call; the next call logs in again.
    this.#cached = { token, refreshAt };
    return token;
  }
}
