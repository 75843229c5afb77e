import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { memoryDashboardState, type DashboardState } from './shared-state.js';

/**
 * Slows down guessing: after `freeAttempts` failed credentials from one client (keyed by the
 * caller, e.g. `<ip>|login`), each further *wrong* attempt inside an exponentially growing wait
 * after the last failure is answered 429 instead of 401. A correct credential is never refused:
 * callers check the presented credential first and consult the backoff only when it is wrong,
 * so a guesser (or a misconfigured scraper) behind the same address or proxy cannot lock the
 * owner of the right credential out. A success does not clear the record: the right credential
 * needs no forgiveness (it is never refused), and clearing would let a guesser sharing an
 * address with a legitimate client (a proxy, a scraper) start afresh after each of its requests.
 * `forgetAfterMs` of quiet clears it.
 * The counts live in the shared dashboard state (Redis), so replicas slow a guesser down
 * together. No timers: the clock is read on each attempt, so tests move a ManualClock.
 */
export interface BackoffSettings {
  freeAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = {
  freeAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 15 * 60_000,
};

export type BackoffVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export class LoginBackoff {
  readonly #clock: Clock;
  readonly #settings: BackoffSettings;
  readonly #state: DashboardState;

  constructor(clock: Clock, settings: Partial<BackoffSettings> = {}, state: DashboardState = memoryDashboardState()) {
    this.#clock = clock;
    this.#settings = { ...DEFAULT_BACKOFF, ...settings };
    this.#state = state;
  }

  /**
   * A wrong credential was presented: either it is counted (the caller answers 401) or the
   * client is inside its wait (the caller answers 429; not counted, so the wait does not grow
   * without bound while a script retries).
   */
  async failure(key: string): Promise<BackoffVerdict> {
    const now = this.#clock.now();
    const entry = await this.#live(key, now);
    if (entry && entry.count >= this.#settings.freeAttempts) {
      const wait = Math.min(this.#settings.baseDelayMs * 2 ** (entry.count - this.#settings.freeAttempts), this.#settings.maxDelayMs);
      const retryAfterMs = entry.lastAt + wait - now;
      if (retryAfterMs > 0) return { allowed: false, retryAfterMs };
    }
    await this.#state.recordFailure(key, now, this.#settings.forgetAfterMs);
    return { allowed: true };
  }

  /** `failure`, but a shared state that does not answer (Redis down) lets the 401 through uncounted. */
  async failureBestEffort(key: string, logger: Pick<Logger, 'warn'>): Promise<BackoffVerdict> {
    try {
      return await this.failure(key);
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'could not count a failed dashboard sign-in (Redis did not answer)');
      return { allowed: true };
    }
  }

  async #live(key: string, now: number): Promise<{ count: number; lastAt: number } | null> {
    const entry = await this.#state.failures(key);
    if (entry && now - entry.lastAt > this.#settings.forgetAfterMs) {
      await this.#state.clearFailures(key);
      return null;
    }
    return entry;
  }
}
