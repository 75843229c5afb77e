import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

/** The URL of the test run's private Redis. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique BullMQ prefix / key namespace for one test. */
export function testPrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

export function newRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix (BullMQ's `obliterate` covers one queue; this covers all). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}
