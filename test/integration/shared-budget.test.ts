import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type Sleep } from '../../src/clock.js';
import { SharedRequestBudget } from '../../src/redis/shared-budget.js';
import { deletePrefix, newRedis, testPrefix } from '../helpers/redis.js';

/**
 * Issue 12: one Dfns budget per org across every daemon on one Redis, paced, halved after a 429.
 * Three budgets on three separate Redis connections stand for three daemons. Time is fake: one
 * shared clock, and a sleep that moves it (never back) to when the sleeper wakes.
 */
const WINDOW = 60_000;

function fakeTime(start: number) {
  const clock = new ManualClock(start);
  const sleep: Sleep = async (ms) => {
    clock.set(Math.max(clock.now(), clock.now() + ms));
  };
  return { clock, sleep };
}

/** The most starts in any half-open window [t, t + 60 s). */
function maxInAnyWindow(starts: number[]): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let max = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= WINDOW) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

/** Each daemon runs `callers` request loops until `until()` says stop; returns every start time. */
async function drive(budgets: SharedRequestBudget[], callers: number, until: () => boolean, onStart?: (at: number, daemon: number) => Promise<void> | void): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(
    budgets.flatMap((budget, daemon) =>
      Array.from({ length: callers }, async () => {
        while (!until()) {
          const at = await budget.acquire();
          starts.push(at);
          await onStart?.(at, daemon);
        }
      }),
    ),
  );
  return starts;
}

describe('the shared request budget (Redis)', () => {
  const connections: Redis[] = [];
  const prefix = `{${testPrefix()}}`;

  beforeAll(() => {
    for (let i = 0; i < 3; i++) connections.push(newRedis());
  });

  afterAll(async () => {
    await deletePrefix(connections[0]!, prefix);
    await Promise.all(connections.map((c) => c.quit()));
  });

  function daemons(orgId: string, requestsPerMinute: number, start = 1_000_000) {
    const { clock, sleep } = fakeTime(start);
    const budgets = connections.map((redis) => new SharedRequestBudget({ redis, prefix, orgId, requestsPerMinute, clock, sleep }));
    return { clock, budgets };
  }

  it('three daemons never exceed one budget in any 60 s, and pace it over the minute', async () => {
    const { clock, budgets } = daemons('or-paced', 120);
    const t0 = clock.now();
    const starts = await drive(budgets, 4, () => clock.now() - t0 >= 5 * WINDOW);
    expect(maxInAnyWindow(starts)).toBeLessThanOrEqual(120);
    // Not over-cautious: five minutes of a 120/min budget is about 600 requests.
    expect(starts.length).toBeGreaterThanOrEqual(0.95 * 600);
    // Paced: the first 10 s see a sixth of the minute's budget (and its small burst), not all of it.
    const firstTenSeconds = starts.filter((t) => t < t0 + 10_000).length;
    expect(firstTenSeconds).toBeLessThanOrEqual(120 / 6 + 6);
    // Every daemon got its turn.
    expect(budgets.map((b) => b.stats().granted).every((n) => n > 100)).toBe(true);
  });

  it('halves after a 429 (once per burst of them), recovers slowly, and every daemon sees it', async () => {
    const { clock, budgets } = daemons('or-backoff', 200);
    const t0 = clock.now();
    // One minute at the full budget.
    await drive(budgets, 3, () => clock.now() - t0 >= WINDOW);
    const throttledAt = clock.now();
    const inFlightStartedAt = throttledAt - 100;
    await budgets[1]!.throttled({ startedAt: throttledAt });
    // A second 429 from a request that started before the cut is the same burst: no second halving.
    await budgets[2]!.throttled({ startedAt: inFlightStartedAt });
    expect(budgets[1]!.stats()).toMatchObject({ configuredPerMinute: 200, currentPerMinute: 100, throttled: 1 });

    const after = await drive(budgets, 3, () => clock.now() - throttledAt >= WINDOW);
    const nextMinute = after.filter((t) => t >= throttledAt && t < throttledAt + WINDOW).length;
    // Half the budget, plus what a minute of additive recovery (20/min per minute) gives back.
    expect(nextMinute).toBeLessThanOrEqual(100 + 20);
    expect(nextMinute).toBeGreaterThanOrEqual(95);
    for (const b of budgets) expect(b.stats().currentPerMinute).toBeGreaterThanOrEqual(100);
    for (const b of budgets) expect(b.stats().currentPerMinute).toBeLessThan(200);

    // A 429 to a request sent after the cut is new evidence: halve again.
    await budgets[0]!.throttled({ startedAt: clock.now() });
    expect(budgets[0]!.stats().currentPerMinute).toBeLessThanOrEqual(60);

    // Five quiet minutes later the budget is whole again, never more.
    clock.advance(10 * WINDOW);
    await budgets[0]!.acquire();
    expect(budgets[0]!.stats().currentPerMinute).toBe(200);
  });

  it('holds every daemon for Retry-After', async () => {
    const { clock, budgets } = daemons('or-retry-after', 600);
    await budgets[0]!.acquire();
    const at = clock.now();
    await budgets[0]!.throttled({ startedAt: at, retryAfterMs: 7_000 });
    const [a, b] = await Promise.all([budgets[1]!.acquire(), budgets[2]!.acquire()]);
    expect(Math.min(a, b)).toBeGreaterThanOrEqual(at + 7_000);
  });

  it('falls back to a budget of its own once its Redis connection is closed for good', async () => {
    const redis = newRedis();
    const { clock, sleep } = fakeTime(5_000);
    const budget = new SharedRequestBudget({ redis, prefix, orgId: 'or-closed', requestsPerMinute: 30, clock, sleep });
    await budget.acquire();
    await redis.quit();
    const starts: number[] = [];
    for (let i = 0; i < 40; i++) starts.push(await budget.acquire());
    expect(maxInAnyWindow(starts)).toBeLessThanOrEqual(30);
    await budget.throttled({ startedAt: clock.now(), retryAfterMs: 1_000 });
    expect(await budget.acquire()).toBeGreaterThanOrEqual(starts.at(-1)! + 1_000);
  });

  it('never goes below its floor however many 429s', async () => {
    const { clock, budgets } = daemons('or-floor', 160);
    for (let i = 0; i < 12; i++) {
      clock.advance(1);
      await budgets[0]!.throttled({ startedAt: clock.now() });
    }
    expect(budgets[0]!.stats().currentPerMinute).toBe(10);
    const t = clock.now();
    const starts = await drive(budgets, 2, () => clock.now() - t >= WINDOW);
    expect(starts.filter((s) => s < t + WINDOW).length).toBeGreaterThan(5);
  });
});
