import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitterDelay, parseRetryAfter } from '../../src/dfns/backoff.js';
import { DEFAULT_RETRY_POLICY, planRetry, resolveRetryPolicy } from '../../src/dfns/retry.js';

const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };

describe('backoff', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [60, 1_000],
    [2_000, 1_000],
  ])('ceiling before retry %i is %i ms', (retry, ceiling) => {
    expect(backoffCeiling(retry, opts)).toBe(ceiling);
  });

  it('full jitter spans [0, ceiling) and scales with random()', () => {
    expect(fullJitterDelay(3, opts, () => 0)).toBe(0);
    expect(fullJitterDelay(3, opts, () => 0.5)).toBe(200);
    expect(fullJitterDelay(3, opts, () => 0.999_999)).toBe(399);
    expect(fullJitterDelay(9, opts, () => 0.25)).toBe(250);
  });

  it('refuses a bad retry number or random value', () => {
    expect(() => backoffCeiling(0, opts)).toThrow(RangeError);
    expect(() => fullJitterDelay(1, opts, () => 1)).toThrow(/random/);
    expect(() => fullJitterDelay(1, opts, () => Number.NaN)).toThrow(/random/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it.each<[string | null | undefined, number | undefined]>([
    ['0', 0],
    ['7', 7_000],
    [' 120 ', 120_000],
    ['Wed, 01 Jan 2025 12:00:30 GMT', 30_000],
    ['Wednesday, 01-Jan-25 12:01:00 GMT', 60_000],
    ['Wed, 01 Jan 2025 11:00:00 GMT', 0],
    [null, undefined],
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-3', undefined],
    ['1.5', undefined],
  ])('%j -> %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('planRetry', () => {
  const policy = resolveRetryPolicy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalDelayMs: 1_000, maxRetryAfterMs: 500 });
  const half = () => 0.5;

  it('never retries a permanent failure', () => {
    expect(planRetry({ retryable: false }, 1, 0, policy, half)).toEqual({ retry: false, reason: 'permanent' });
  });

  it('retries with full-jitter backoff, growing per attempt', () => {
    expect(planRetry({ retryable: true }, 1, 0, policy, half)).toEqual({ retry: true, delayMs: 50 });
    expect(planRetry({ retryable: true }, 2, 50, policy, half)).toEqual({ retry: true, delayMs: 100 });
    expect(planRetry({ retryable: true }, 3, 150, policy, half)).toEqual({ retry: true, delayMs: 200 });
  });

  it('stops at maxAttempts', () => {
    expect(planRetry({ retryable: true }, 4, 0, policy, half)).toEqual({ retry: false, reason: 'attempts' });
  });

  it('stops when the next wait would exceed the total delay budget', () => {
    expect(planRetry({ retryable: true }, 3, 801, policy, half)).toEqual({ retry: false, reason: 'delay-budget' });
    expect(planRetry({ retryable: true }, 3, 800, policy, half)).toEqual({ retry: true, delayMs: 200 });
  });

  it('honours Retry-After over backoff, capped at maxRetryAfterMs', () => {
    expect(planRetry({ retryable: true, retryAfterMs: 0 }, 1, 0, policy, half)).toEqual({ retry: true, delayMs: 0 });
    expect(planRetry({ retryable: true, retryAfterMs: 300 }, 1, 0, policy, half)).toEqual({ retry: true, delayMs: 300 });
    expect(planRetry({ retryable: true, retryAfterMs: 90_000 }, 1, 0, policy, half)).toEqual({ retry: true, delayMs: 500 });
    expect(planRetry({ retryable: true, retryAfterMs: 400 }, 1, 700, policy, half)).toEqual({ retry: false, reason: 'delay-budget' });
  });

  it('validates a policy, naming every bad field', () => {
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
    expect(() => resolveRetryPolicy({ maxAttempts: 0, baseDelayMs: -1 })).toThrow(/retry\.maxAttempts[\s\S]*retry\.baseDelayMs/);
  });
});
