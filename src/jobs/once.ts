import type { RedisClient } from '../redis/connection.js';

/**
 * "At most once" markers in Redis, for notifications that must not repeat (a threshold crossed,
 * an expiry, a daily digest). SET NX is atomic, so two daemons scanning at once claim a marker once.
 */
export interface OnceMarkers {
  /** True the first time `key` is claimed within `ttlSeconds`. */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /** Gives a claim back (when the work it guarded could not be queued). */
  release(key: string): Promise<void>;
}

/** Markers live for two maximum token lifetimes: long enough to outlive any credential. */
export const MARKER_TTL_SECONDS = 2 * 730 * 86_400;

export function onceMarkers(redis: RedisClient, prefix: string): OnceMarkers {
  const k = (key: string) => `${prefix}:once:${key}`;
  return {
    async claim(key, ttlSeconds) {
      return (await redis.set(k(key), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    },
    async release(key) {
      await redis.del(k(key));
    },
  };
}
