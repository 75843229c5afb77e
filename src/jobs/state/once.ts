import type { RedisClient } from '../../redis/connection.js';

/**
 * "At most once" markers in Redis, for notifications that must not repeat (a threshold crossed,
 * an expiry, a daily digest). SET NX is atomic, so two daemons scanning at once claim a marker once.
 */
export interface OnceMarkers {
  /** True the first time `key` is claimed within `ttlSeconds`. */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /** Gives a claim back (when the work it guarded could not be queued). */
  release(key: string): Promise<void>;
  /** `claim` for many keys in one round trip (a scan has thousands); one boolean per key, in order. */
  claimAll(keys: readonly string[], ttlSeconds: number): Promise<boolean[]>;
  releaseAll(keys: readonly string[]): Promise<void>;
}

/** Commands per pipeline: one round trip each, bounded memory. */
const PIPELINE_CHUNK = 1000;

/** Markers live for two maximum token lifetimes: long enough to outlive any credential. */
export const MARKER_TTL_SECONDS = 2 * 730 * 86_400;

export function onceMarkers(redis: RedisClient, prefix: string): OnceMarkers {
  const k = (key: string) => `${prefix}:once:${key}`;
  const releaseAll = async (keys: readonly string[]) => {
    for (let i = 0; i < keys.length; i += PIPELINE_CHUNK) await redis.del(...keys.slice(i, i + PIPELINE_CHUNK).map(k));
  };
  return {
    async claim(key, ttlSeconds) {
      return (await redis.set(k(key), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    },
    async release(key) {
      await redis.del(k(key));
    },
    async claimAll(keys, ttlSeconds) {
      // Every key carries the prefix's hash tag, so a Redis Cluster takes a whole chunk in one slot.
      const claimed: boolean[] = [];
      try {
        for (let i = 0; i < keys.length; i += PIPELINE_CHUNK) {
          const pipeline = redis.pipeline();
          for (const key of keys.slice(i, i + PIPELINE_CHUNK)) pipeline.set(k(key), '1', 'EX', ttlSeconds, 'NX');
          const replies = (await pipeline.exec()) ?? [];
          for (const [err, reply] of replies) claimed.push(!err && reply === 'OK');
          const failed = replies.find(([err]) => err);
          if (failed) throw failed[0];
        }
      } catch (err) {
        // Claims that went through would silence their warnings for good: give them back.
        await releaseAll(keys.filter((_, i) => claimed[i])).catch(() => undefined);
        throw err;
      }
      return claimed;
    },
    releaseAll,
  };
}
