/**
 * The request budget every Dfns request takes a slot from before it is sent (transport.ts).
 * Dfns' limit is per organisation and shared with the customer's own applications (the
 * payments service this tool exists to protect), so the budget is a modest share of it, paced
 * (no burst of a minute's share in seconds), and it backs off when Dfns answers 429.
 *
 * Two implementations: `RateLimiter` (rate-limiter.ts, in the process: for one-shot commands that
 * run without Redis) and the shared one in src/redis/shared-budget.ts (one budget per org across
 * every daemon on one Redis). src/dfns knows nothing of Redis: the daemon injects the shared one.
 */
export interface RequestBudget {
  /**
   * Resolves when the caller may start one request, with the clock time the start was counted
   * at (a caller's own `clock.now()` afterwards may be later).
   */
  acquire(): Promise<number>;
  /**
   * Dfns answered 429 to a request that started at `startedAt`: the org is over its limit, and
   * every client on it (ours and the customer's) is being refused. Slows the budget down (the
   * shared one halves, once per burst of 429s) and holds every caller for `retryAfterMs` when
   * Dfns said how long.
   */
  throttled(event: { startedAt: number; retryAfterMs?: number }): Promise<void>;
  stats(): BudgetStats;
}

export interface BudgetStats {
  /** The configured share of the org's limit (`dfns.requestsPerMinute`). */
  configuredPerMinute: number;
  /** The budget now: lower than the configured one for a while after a 429. */
  currentPerMinute: number;
  /** Requests this process started. */
  granted: number;
  /** Callers waiting for a slot in this process. */
  waiting: number;
  /** 429s this process reported. */
  throttled: number;
}

/**
 * How a budget of N requests/min behaves: additive increase, multiplicative decrease (TCP's
 * AIMD). After a 429 the budget halves (not below `minPerMinute`), then grows back by
 * `recoverPerMinute` each minute: from half to full in five minutes. `burst` requests may start
 * back to back (a user action is three), the rest are spaced evenly: at most N start in any 60 s.
 */
export interface BudgetShape {
  perMinute: number;
  minPerMinute: number;
  recoverPerMinute: number;
  /** Most requests allowed back to back, as a share of the current budget (and at most `maxBurst`). */
  burstShare: number;
  maxBurst: number;
}

export function budgetShape(perMinute: number): BudgetShape {
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError(`requestsPerMinute must be an integer >= 1, got ${perMinute}`);
  return {
    perMinute,
    minPerMinute: Math.max(1, Math.ceil(perMinute / 16)),
    recoverPerMinute: Math.max(1, perMinute / 10),
    burstShare: 0.05,
    maxBurst: 10,
  };
}
