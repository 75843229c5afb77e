import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, newRedis, testPrefix } from '../helpers/redis.js';

describe('the test run Redis', () => {
  const client = newRedis();
  const prefix = testPrefix();
  afterAll(async () => {
    await deletePrefix(client, prefix);
    client.disconnect();
  });

  it('is a real redis-server that refuses to evict keys', async () => {
    const [, policy] = (await client.config('GET', 'maxmemory-policy')) as [string, string];
    const info = await client.info('server');
    expect(info).toMatch(/redis_version:\d+/);
    // the private server starts with noeviction; a given REDIS_URL may not, so only check ours
    if (!process.env.REDIS_URL) expect(policy).toBe('noeviction');
  });

  it('isolates tests by prefix', async () => {
    await client.set(`${prefix}:a`, '1');
    await client.set(`${prefix}:b`, '2');
    await deletePrefix(client, prefix);
    expect(await client.keys(`${prefix}:*`)).toEqual([]);
  });
});
