import type { RedisClient } from '../redis/connection.js';

/**
 * What every replica behind one load balancer must agree on: revoked sessions (a logout on one
 * replica holds on all) and failed sign-in counts (a guesser cannot spread attempts over
 * replicas). In Redis when the dashboard runs with the daemon; in memory for a lone server.
 */
export interface DashboardState {
  revokeSession(nonce: string, expiresAt: number, now: number): Promise<void>;
  isSessionRevoked(nonce: string): Promise<boolean>;
  /** Failed attempts of one client and when the last one was; null when none is remembered. */
  failures(key: string): Promise<{ count: number; lastAt: number } | null>;
  recordFailure(key: string, now: number, forgetAfterMs: number): Promise<void>;
  clearFailures(key: string): Promise<void>;
}

/** Entries kept at most in memory; beyond it the oldest are dropped (they expire anyway). */
const MAX_ENTRIES = 10_000;

export function memoryDashboardState(): DashboardState {
  const revoked = new Map<string, number>();
  const failures = new Map<string, { count: number; lastAt: number; forgetAt: number }>();
  const trim = <V>(map: Map<string, V>) => {
    while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
  };
  return {
    async revokeSession(nonce, expiresAt, now) {
      for (const [n, until] of revoked) if (until <= now) revoked.delete(n);
      revoked.set(nonce, expiresAt);
      trim(revoked);
    },
    async isSessionRevoked(nonce) {
      return revoked.has(nonce);
    },
    async failures(key) {
      const entry = failures.get(key);
      return entry ? { count: entry.count, lastAt: entry.lastAt } : null;
    },
    async recordFailure(key, now, forgetAfterMs) {
      const entry = failures.get(key);
      const count = entry && entry.forgetAt > now ? entry.count + 1 : 1;
      // Re-insert so Map order is least-recently-failed first, then trim from the front.
      failures.delete(key);
      failures.set(key, { count, lastAt: now, forgetAt: now + forgetAfterMs });
      trim(failures);
    },
    async clearFailures(key) {
      failures.delete(key);
    },
  };
}

/**
 * Keys under `<prefix>:dashboard:`, each with a Redis expiry, so nothing outlives its use. The
 * expiry is a ceiling: callers still compare times on their own clock (tests move a ManualClock).
 */
export function redisDashboardState(redis: RedisClient, prefix: string): DashboardState {
  const revokedKey = (nonce: string) => `${prefix}:dashboard:revoked:${nonce}`;
  const failureKey = (key: string) => `${prefix}:dashboard:failures:${key}`;
  return {
    async revokeSession(nonce, expiresAt, now) {
      await redis.set(revokedKey(nonce), '1', 'PX', Math.max(1_000, expiresAt - now));
    },
    async isSessionRevoked(nonce) {
      return (await redis.exists(revokedKey(nonce))) === 1;
    },
    async failures(key) {
      const [count, lastAt] = await redis.hmget(failureKey(key), 'count', 'lastAt');
      if (count === null || count === undefined || lastAt === null || lastAt === undefined) return null;
      return { count: Number(count), lastAt: Number(lastAt) };
    },
    async recordFailure(key, now, forgetAfterMs) {
      const k = failureKey(key);
      await redis.multi().hincrby(k, 'count', 1).hset(k, 'lastAt', String(now)).pexpire(k, forgetAfterMs).exec();
    },
    async clearFailures(key) {
      await redis.del(failureKey(key));
    },
  };
}
