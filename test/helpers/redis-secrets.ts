import type { Redis } from 'ioredis';

/**
 * Reads every key under a prefix, whatever its type, and returns the keys whose content holds
 * one of `needles` (tokens, PEM markers). "No secret in Redis" is checked by reading it all.
 */
export async function keysContaining(redis: Redis, prefix: string, needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let content = '';
      if (type === 'string') content = (await redis.get(key)) ?? '';
      else if (type === 'hash') content = JSON.stringify(await redis.hgetall(key));
      else if (type === 'list') content = JSON.stringify(await redis.lrange(key, 0, -1));
      else if (type === 'set') content = JSON.stringify(await redis.smembers(key));
      else if (type === 'zset') content = JSON.stringify(await redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES'));
      else if (type === 'stream') content = JSON.stringify(await redis.xrange(key, '-', '+'));
      if (needles.some((n) => n.length > 0 && content.includes(n))) hits.push(key);
    }
  } while (cursor !== '0');
  return hits;
}

/** Markers that betray a secret whatever its value: PEM armour and the start of a JWT. */
export const SECRET_MARKERS = ['PRIVATE KEY', 'eyJhbGci'];
