import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../src/jobs/state/scan-results.js';
import { DASHBOARD_TOKEN, seededScan, startDashboardFixture, storedScanOf, type DashboardFixture } from '../helpers/dashboard-fixture.js';

/** Issue 12: the inventory of a large org is read and shown a page at a time. */
describe('inventory pages', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  let fx: DashboardFixture;
  const total = 2 * PAGE_SIZE + 3;

  beforeAll(async () => {
    const base = seededScan(now).items[0]!;
    const items = Array.from({ length: total }, (_, i) => ({ ...base, key: `sa:us-${i}` as const, id: `us-${i}`, name: `sa-${String(i).padStart(4, '0')}` }));
    fx = await startDashboardFixture({ now, scan: storedScanOf(items, now) });
  });

  afterAll(async () => {
    await fx.close();
  });

  const get = (path: string) => fetch(`${fx.url}${path}`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });

  it('serves the JSON a page at a time, with the next page named', async () => {
    const first = (await (await get('/api/inventory')).json()) as { scan: { items: unknown[]; summary: { total: number } }; page: { number: number; pages: number; next: string | null } };
    expect(first.scan.items).toHaveLength(PAGE_SIZE);
    expect(first.scan.summary.total).toBe(total);
    expect(first.page).toMatchObject({ number: 1, pages: 3, next: '/api/inventory?page=2' });
    const last = (await (await get('/api/inventory?page=3')).json()) as { scan: { items: unknown[] }; page: { next: string | null } };
    expect(last.scan.items).toHaveLength(3);
    expect(last.page.next).toBeNull();
  });

  it('links the HTML pages, and refuses a page that is not a whole number from 1', async () => {
    const html = await (await get('/inventory?page=2')).text();
    expect(html).toContain('Page 2 of 3');
    expect(html).toContain('href="/inventory?page=1"');
    expect(html).toContain('href="/inventory?page=3"');
    expect(html).toContain('sa-0500');
    expect(html).not.toContain('sa-0499');
    for (const bad of ['0', '-1', 'x', '1.5']) {
      const res = await get(`/inventory?page=${bad}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('page: must be a whole number');
    }
  });
});
