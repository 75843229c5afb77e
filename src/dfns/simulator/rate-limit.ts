/**
 * Dfns' per-org limit (1000 req/min, 100 on trial; dfns-api.md §6) as a fixed one-minute window
 * on the simulator clock. Every request counts, signing calls included (UNCONFIRMED in Dfns;
 * the safe assumption). Refused requests don't count, so a client that waits for the window to
 * reset gets through.
 */
export const WINDOW_MS = 60_000;

/** What Dfns enforces (answering 429), not the client's own pacing (src/dfns/rate-limiter.ts). */
export class OrgRequestWindow {
  #windowStart = -1;
  #count = 0;

  /** Null when admitted; else the ms left until the window resets. */
  admit(nowMs: number, limitPerMinute: number | null): number | null {
    const windowStart = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
    if (windowStart !== this.#windowStart) {
      this.#windowStart = windowStart;
      this.#count = 0;
    }
    if (limitPerMinute !== null && this.#count >= limitPerMinute) return windowStart + WINDOW_MS - nowMs;
    this.#count++;
    return null;
  }

  msUntilReset(nowMs: number): number {
    return Math.floor(nowMs / WINDOW_MS) * WINDOW_MS + WINDOW_MS - nowMs;
  }
}

/** Retry-After header value for a knob setting, or null for none. */
export function retryAfterHeader(setting: number | 'until-reset' | null, msUntilReset: number): string | null {
  if (setting === null) return null;
  if (setting === 'until-reset') return String(Math.max(1, Math.ceil(msUntilReset / 1000)));
  return String(setting);
}
