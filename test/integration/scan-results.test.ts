import { afterAll, describe, expect, it } from 'vitest';
import { PAGE_SIZE, redisScanResults, type StoredScan } from '../../src/jobs/state/scan-results.js';
import type { InventoryItem } from '../../src/model.js';
import { deletePrefix, newRedis, testPrefix } from '../helpers/redis.js';

/** Issue 12: the last scan is kept in pages (no multi-megabyte value), read a page at a time. */
describe('stored scan results', () => {
  const redis = newRedis();
  const prefix = `{${testPrefix()}}`;
  const results = redisScanResults(redis, prefix);

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  function scan(id: string, n: number): StoredScan {
    const items = Array.from({ length: n }, (_, i) => ({ key: `sa:us-${i}`, kind: 'service-account', id: `us-${i}`, name: `${id}-${i}`, state: 'ok' }) as unknown as InventoryItem);
    return { summary: { scanId: id, startedAt: 1, finishedAt: 2, counts: { ok: n, warn: 0, rotate: 0, expired: 0, inactive: 0, unknown: 0 }, total: n, rotationsQueued: 0, notificationsQueued: 0, errors: [] }, items };
  }

  it('saves a large scan in pages, serves each page, and replaces the previous scan whole', async () => {
    expect(await results.summary()).toBeNull();
    expect(await results.page(0)).toBeNull();
    await results.save(scan('01SCANA', 20));
    await results.save(scan('01SCANB', 2 * PAGE_SIZE + 7));
    const summary = await results.summary();
    expect(summary).toMatchObject({ scanId: '01SCANB', total: 2 * PAGE_SIZE + 7, pages: 3, pageSize: PAGE_SIZE });
    const last = await results.page(2);
    expect(last!.items.map((i) => i.name)).toEqual(Array.from({ length: 7 }, (_, i) => `01SCANB-${2 * PAGE_SIZE + i}`));
    expect(last!.page).toEqual({ index: 2, count: 3, size: PAGE_SIZE });
    expect((await results.page(3))!.items).toEqual([]);
    expect((await results.load())!.items).toHaveLength(2 * PAGE_SIZE + 7);
    expect(await results.lastSuccessAt()).toBe(2);
    // The first scan's pages are gone; no value is the whole result.
    const keys = await redis.keys(`${prefix}:scan:*`);
    expect(keys.some((k) => k.includes('01SCANA'))).toBe(false);
    for (const key of keys.filter((k) => k.endsWith(':pages'))) {
      for (const value of Object.values(await redis.hgetall(key))) expect((JSON.parse(value) as unknown[]).length).toBeLessThanOrEqual(PAGE_SIZE);
    }
  });

  it('keeps the observations of the latest scan only', async () => {
    await results.observe('01SCANA', [{ kind: 'service-account', id: 'us-1', permissionIds: ['pm-a'], ownedByOperator: false, at: 10 }]);
    await results.observe('01SCANB', [{ kind: 'pat', id: 'to-1', permissionIds: [], ownedByOperator: true, at: 20 }]);
    expect(await results.observation('service-account', 'us-1')).toBeNull();
    expect(await results.observation('pat', 'to-1')).toEqual({ kind: 'pat', id: 'to-1', permissionIds: [], ownedByOperator: true, at: 20 });
  });
});
