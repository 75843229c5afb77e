import { ConfigError } from '../errors.js';
import { fullJitterDelay, type Random } from './backoff.js';

/**
 * The retry budget of one port call. Every retry redoes the whole SDK call, so a mutation redoes
 * its 3-step user-action signing (user actions are single-use). Pure: the caller sleeps.
 */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** Sum of all waits between attempts; a retry that would exceed it is not made. */
  maxTotalDelayMs: number;
  /** Backoff ceiling of the first retry (full jitter). */
  baseDelayMs: number;
  /** Backoff ceiling of any retry. */
  maxDelayMs: number;
  /** The longest `Retry-After` honoured; a longer one is cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  maxTotalDelayMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
});

export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(partial) };
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push(`retry.maxAttempts must be an integer >= 1, got ${policy.maxAttempts}`);
  for (const key of ['maxTotalDelayMs', 'baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) problems.push(`retry.${key} must be a number >= 0, got ${policy[key]}`);
  }
  if (problems.length > 0) throw new ConfigError(problems, 'Dfns retry policy');
  return policy;
}

export interface RetryInput {
  retryable: boolean;
  /** From a 429's `Retry-After`, when Dfns sent one. */
  retryAfterMs?: number;
}

export type RetryPlan =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'permanent' | 'attempts' | 'delay-budget' };

/**
 * Whether to retry after failed attempt number `attempt` (1-based), having waited `waitedMs` so
 * far. `Retry-After` wins over backoff when present (capped at `maxRetryAfterMs`).
 */
export function planRetry(input: RetryInput, attempt: number, waitedMs: number, policy: RetryPolicy, random: Random): RetryPlan {
  if (!input.retryable) return { retry: false, reason: 'permanent' };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts' };
  const delayMs =
    input.retryAfterMs !== undefined
      ? Math.min(input.retryAfterMs, policy.maxRetryAfterMs)
      : fullJitterDelay(attempt, policy, random);
  if (waitedMs + delayMs > policy.maxTotalDelayMs) return { retry: false, reason: 'delay-budget' };
  return { retry: true, delayMs };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
