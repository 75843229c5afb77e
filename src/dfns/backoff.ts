/**
 * Retry delays as plain functions. Full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): the delay is uniform in [0, min(cap, base * 2^(retry-1))), which spreads replicas that
 * failed together instead of having them retry in lock-step against Dfns' per-org rate limit.
 */

export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  baseDelayMs: number;
  /** Ceiling of any single delay. */
  maxDelayMs: number;
}

/** A uniform random number in [0, 1). Injectable so tests are exact. */
export type Random = () => number;

/** The ceiling of the delay before retry number `retry` (1 = first retry). */
export function backoffCeiling(retry: number, options: BackoffOptions): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry number must be an integer >= 1, got ${retry}`);
  // 2 ** 1024 is Infinity; Math.min keeps it finite.
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
}

/** Full-jitter delay before retry number `retry` (1 = first retry), whole milliseconds. */
export function fullJitterDelay(retry: number, options: BackoffOptions, random: Random): number {
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  return Math.floor(r * backoffCeiling(retry, options));
}

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
 * Returns milliseconds to wait (0 for a date in the past), or undefined when absent or unreadable.
 * Dfns' use of the header is UNCONFIRMED (dfns-api.md §6); callers fall back to backoff.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // HTTP-date has a day name and a time: refuse bare numbers with signs/decimals ("1.5", "-3").
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
