import type { Clock } from '../clock.js';

/**
 * Slows down guessing: after `freeAttempts` failed credentials from one client (keyed by the
 * caller, e.g. `<ip>|login`), each further attempt must wait an exponentially growing delay
 * after the last failure, and attempts inside that wait are refused without checking the
 * credential at all. A success or `forgetAfterMs` of quiet clears the record. No timers: the
 * clock is read on each attempt, so tests move a ManualClock.
 */
export interface BackoffSettings {
  freeAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  /** Clients remembered at most (a flood of distinct addresses must not grow memory without bound). */
  maxEntries: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = {
  freeAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 10_000,
};

export type BackoffVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Entry {
  failures: number;
  lastFailureAt: number;
}

export class LoginBackoff {
  readonly #clock: Clock;
  readonly #settings: BackoffSettings;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, settings: Partial<BackoffSettings> = {}) {
    this.#clock = clock;
    this.#settings = { ...DEFAULT_BACKOFF, ...settings };
  }

  check(key: string): BackoffVerdict {
    const entry = this.#live(key);
    if (!entry || entry.failures < this.#settings.freeAttempts) return { allowed: true };
    const wait = Math.min(this.#settings.baseDelayMs * 2 ** (entry.failures - this.#settings.freeAttempts), this.#settings.maxDelayMs);
    const retryAfterMs = entry.lastFailureAt + wait - this.#clock.now();
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true };
  }

  failure(key: string): void {
    const entry = this.#live(key) ?? { failures: 0, lastFailureAt: 0 };
    entry.failures += 1;
    entry.lastFailureAt = this.#clock.now();
    // Re-insert so Map order is least-recently-failed first, then trim from the front.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#settings.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  success(key: string): void {
    this.#entries.delete(key);
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.#clock.now() - entry.lastFailureAt > this.#settings.forgetAfterMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
