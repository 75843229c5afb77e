import { realSleep, systemClock, type Clock, type Sleep } from '../clock.js';
import type { BudgetStats, RequestBudget } from './request-budget.js';
import { Turns } from './turns.js';

/**
 * Dfns limits each organisation to 1000 requests per minute, 100 on a trial plan (dfns-api.md §6),
 * and every request counts, including the two signing requests of each mutation (assumed: §8 q4).
 * That limit is shared with the customer's own applications on the org: the default is a modest
 * share (a fifth), which still rotates 33 credentials a minute (6 requests each); on a trial org,
 * 50 of its 100. See the README ("Sizing the request budget").
 */
export const DFNS_ORG_LIMIT_PER_MINUTE = 1000;
export const DFNS_TRIAL_LIMIT_PER_MINUTE = 100;
export const DEFAULT_REQUESTS_PER_MINUTE = 200;
export const TRIAL_REQUESTS_PER_MINUTE = 50;

export interface RateLimiterOptions {
  /** Requests allowed to start in any window. Default 200. */
  requestsPerMinute?: number;
  /** Window length; 60 s for Dfns. Only tests change it. */
  windowMs?: number;
  clock?: Clock;
  sleep?: Sleep;
}

/**
 * A sliding-window-log limiter: a request may start at `t` only if fewer than N requests started
 * in (t - window, t]. Unlike a token bucket (which lets 2N through in the minute after an idle
 * spell: a full bucket plus a minute of refill), this guarantees at most N starts in ANY window,
 * which is what Dfns counts. Memory is N timestamps.
 *
 * FIFO fair: callers are served strictly in arrival order (one promise chain), so a burst of
 * scans cannot starve a rotation that asked first.
 *
 * One instance must be shared by every Dfns client in the process: the limit is per org. It is
 * the budget of commands that run without Redis (`plan`, `adopt`); the daemon shares one budget
 * across replicas through Redis (src/redis/shared-budget.ts). It does not pace nor adapt: a
 * one-shot command makes a few requests. A 429 with Retry-After holds every caller.
 */
export class RateLimiter implements RequestBudget {
  readonly requestsPerMinute: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  /** Ring buffer of the last N start times. */
  readonly #starts: number[] = [];
  #next = 0;
  #pausedUntil = 0;
  readonly #turns = new Turns();
  #granted = 0;
  #throttled = 0;

  constructor(options: RateLimiterOptions = {}) {
    const n = options.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`requestsPerMinute must be an integer >= 1, got ${n}`);
    const windowMs = options.windowMs ?? 60_000;
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.requestsPerMinute = n;
    this.windowMs = windowMs;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? realSleep;
  }

  /**
   * Resolves when the caller may start one request, with the clock time the start was counted at
   * (a caller's own `clock.now()` afterwards may be later, if other callers' sleeps moved a fake clock).
   */
  acquire(): Promise<number> {
    return this.#turns.take(() => this.#take());
  }

  /**
   * Holds every caller until `ms` from now: the reaction to a 429 with Retry-After, since the
   * limit is per org and every caller in the process would be refused too.
   */
  pauseFor(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
  }

  async throttled(event: { startedAt: number; retryAfterMs?: number }): Promise<void> {
    this.#throttled += 1;
    if (event.retryAfterMs !== undefined) this.pauseFor(event.retryAfterMs);
  }

  stats(): BudgetStats & { pausedUntil: number } {
    return {
      configuredPerMinute: this.requestsPerMinute,
      currentPerMinute: this.requestsPerMinute,
      granted: this.#granted,
      waiting: this.#turns.waiting,
      throttled: this.#throttled,
      pausedUntil: this.#pausedUntil,
    };
  }

  async #take(): Promise<number> {
    for (;;) {
      const now = this.#clock.now();
      const wait = Math.max(this.#pausedUntil - now, this.#windowWait(now));
      if (wait <= 0) {
        this.#record(now);
        return now;
      }
      await this.#sleep(wait);
    }
  }

  /** Time until the oldest of the last N starts leaves the window (0 when fewer than N started). */
  #windowWait(now: number): number {
    if (this.#starts.length < this.requestsPerMinute) return 0;
    const oldest = this.#starts[this.#next] as number;
    return oldest + this.windowMs - now;
  }

  #record(now: number): void {
    if (this.#starts.length < this.requestsPerMinute) {
      this.#starts.push(now);
    } else {
      this.#starts[this.#next] = now;
      this.#next = (this.#next + 1) % this.requestsPerMinute;
    }
    this.#granted += 1;
  }
}
