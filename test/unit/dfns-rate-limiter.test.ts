import { describe, expect, it } from 'vitest';
import { ManualClock, type Sleep } from '../../src/clock.js';
import { RateLimiter } from '../../src/dfns/rate-limiter.js';

const WINDOW = 60_000;

function fakeTime(start = 0) {
  const clock = new ManualClock(start);
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  return { clock, sleep, sleeps };
}

/** The most requests that started in any half-open window [t, t + WINDOW). */
function maxInAnyWindow(starts: number[]): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0; i < sorted.length; i++) {
    const from = sorted[i] as number;
    const count = sorted.filter((t) => t >= from && t < from + WINDOW).length;
    max = Math.max(max, count);
  }
  return max;
}

describe('RateLimiter', () => {
  it('lets exactly N start per window, and the next one exactly when the oldest leaves it', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = new RateLimiter({ requestsPerMinute: 5, clock, sleep });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 12 }, () => limiter.acquire().then((at) => starts.push(at))));
    expect(starts).toEqual([0, 0, 0, 0, 0, 60_000, 60_000, 60_000, 60_000, 60_000, 120_000, 120_000]);
    expect(maxInAnyWindow(starts)).toBe(5);
  });

  it('never lets more than N start in any 60 s window under irregular arrivals', async () => {
    const { clock, sleep } = fakeTime(1_000);
    const limiter = new RateLimiter({ requestsPerMinute: 7, clock, sleep });
    const starts: number[] = [];
    // Deterministic irregular arrivals: bursts, gaps, single requests, over ~5 minutes.
    const gaps = [0, 0, 0, 13_000, 0, 0, 0, 0, 59_999, 1, 0, 30_000, 0, 0, 0, 0, 0, 0, 0, 0, 5_000, 70_000, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const pending: Promise<void>[] = [];
    for (const gap of gaps) {
      clock.advance(gap);
      pending.push(limiter.acquire().then((at) => void starts.push(at)));
      // Let already-admitted callers run before time moves on, as real callers would.
      await Promise.resolve();
    }
    await Promise.all(pending);
    expect(starts).toHaveLength(gaps.length);
    expect(maxInAnyWindow(starts)).toBeLessThanOrEqual(7);
    // Not over-conservative: some window is full.
    expect(maxInAnyWindow(starts)).toBe(7);
  });

  it('serves callers first come, first served', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = new RateLimiter({ requestsPerMinute: 2, clock, sleep });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 9 }, (_, i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('does not wait at all below the limit', async () => {
    const { clock, sleep, sleeps } = fakeTime();
    const limiter = new RateLimiter({ requestsPerMinute: 900, clock, sleep });
    for (let i = 0; i < 900; i++) await limiter.acquire();
    expect(sleeps).toEqual([]);
    expect(limiter.stats().granted).toBe(900);
    await limiter.acquire();
    expect(sleeps).toEqual([60_000]);
  });

  it('holds every caller after pauseFor (a 429 with Retry-After)', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = new RateLimiter({ requestsPerMinute: 100, clock, sleep });
    await limiter.acquire();
    limiter.pauseFor(5_000);
    limiter.pauseFor(1_000); // a shorter pause never shortens a longer one
    const starts: number[] = [];
    await Promise.all([limiter.acquire(), limiter.acquire()].map((p) => p.then((at) => starts.push(at))));
    expect(starts).toEqual([5_000, 5_000]);
  });

  it('keeps serving after a sleep fails', async () => {
    const clock = new ManualClock(0);
    let fail = true;
    const sleep: Sleep = async (ms) => {
      if (fail) {
        fail = false;
        throw new Error('timer broke');
      }
      clock.advance(ms);
    };
    const limiter = new RateLimiter({ requestsPerMinute: 1, clock, sleep });
    await limiter.acquire();
    await expect(limiter.acquire()).rejects.toThrow('timer broke');
    await limiter.acquire();
    expect(clock.now()).toBe(60_000);
  });

  it('rejects a bad limit', () => {
    expect(() => new RateLimiter({ requestsPerMinute: 0 })).toThrow(/requestsPerMinute/);
    expect(() => new RateLimiter({ requestsPerMinute: 1.5 })).toThrow(/requestsPerMinute/);
  });
});
