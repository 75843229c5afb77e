import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import type { InventoryItem } from '../../src/model.js';
import { renderInventoryPage } from '../../src/server/inventory-page.js';
import { formatRelative } from '../../src/server/inventory-view.js';
import { seededScan, storedScanOf } from '../helpers/dashboard-fixture.js';

const now = Date.parse('2026-03-01T10:00:00Z');

function item(over: Partial<InventoryItem> & Pick<InventoryItem, 'id' | 'name'>): InventoryItem {
  return {
    key: `sa:${over.id}`,
    kind: 'service-account',
    isActive: true,
    dateCreated: '2025-03-01T00:00:00.000Z',
    expiresAt: now + 100 * DAY_MS,
    expirySource: 'token',
    managed: true,
    role: 'current',
    strategy: 'replace',
    state: 'ok',
    reason: 'expires in 100 days',
    daysLeft: 100,
    threshold: null,
    ...over,
  };
}

/** The HTML of the table row of one credential. */
function rowOf(html: string, name: string): string {
  const rows = html.split('<tr data-state=').slice(1);
  const hits = rows.filter((r) => r.includes(`<b>${name}</b>`));
  if (hits.length !== 1) throw new Error(`${hits.length} rows named ${name}`);
  return hits[0]!.split('</tr>')[0]!;
}

function rotation(over: Partial<RotationRecord>): RotationRecord {
  return {
    rotationId: '01JROT00000000000000000000',
    secretName: 'payments/api',
    kind: 'service-account',
    strategy: 'replace',
    reason: 'expires in 10 days',
    requestedBy: 'scan',
    old: { credentialId: 'us-pay', versionId: 1, credId: 'cr-1', name: 'payments', permissionIds: [], daysValid: 365 },
    step: 'created',
    attempt: 1,
    pendingVersionId: 2,
    created: null,
    orphans: [],
    error: null,
    approvalId: null,
    createdAt: now - 60_000,
    updatedAt: now - 30_000,
    promotedAt: null,
    retireAt: null,
    deactivatedAt: null,
    revision: 3,
    ...over,
  };
}

describe('inventory page', () => {
  it('says whether an expiry is exact, estimated or unknown, with the time left', () => {
    const scan = storedScanOf(
      [
        item({ id: 'us-exact', name: 'exact-one', expiresAt: now + 10 * DAY_MS + 3_600_000, state: 'rotate' }),
        item({ id: 'us-est', name: 'estimated-one', expiresAt: now + 20 * DAY_MS, expirySource: 'estimate', managed: false, role: 'unmanaged', strategy: 'notify', state: 'warn' }),
        item({ id: 'us-none', name: 'unknown-one', expiresAt: null, expirySource: 'none', state: 'unknown', daysLeft: null }),
        item({ id: 'us-old', name: 'expired-one', expiresAt: now - 3 * DAY_MS, state: 'expired' }),
      ],
      now,
    );
    const html = renderInventoryPage({ scan, now });
    expect(rowOf(html, 'exact-one')).toContain('2026-03-11 11:00 UTC');
    expect(rowOf(html, 'exact-one')).toContain('in 10 days <span class="tag">exact</span>');
    expect(rowOf(html, 'estimated-one')).toContain('in 20 days <span class="tag estimate">estimated</span>');
    expect(rowOf(html, 'estimated-one')).toContain('unmanaged · notify');
    expect(rowOf(html, 'unknown-one')).toContain('<span class="tag">unknown</span>');
    expect(rowOf(html, 'unknown-one')).not.toContain('estimated');
    expect(rowOf(html, 'expired-one')).toContain('3 days ago');
    expect(rowOf(html, 'expired-one')).toContain('<span class="badge expired">expired</span>');
    expect(rowOf(html, 'expired-one')).toContain('expired: rotation due now');
  });

  it('keeps the order of the stored scan (most urgent first) and shows the counts, scan time and identity errors', () => {
    const scan = storedScanOf(
      [item({ id: 'us-a', name: 'aaa-fine' }), item({ id: 'us-b', name: 'bbb-expired', state: 'expired', expiresAt: now - DAY_MS })],
      now - 2 * 3_600_000,
      [{ identity: 'watcher', message: 'the watcher token expired' }],
    );
    const html = renderInventoryPage({ scan, now });
    expect(html.indexOf('bbb-expired')).toBeLessThan(html.indexOf('aaa-fine'));
    expect(html).toContain('Last scan finished 2026-03-01 08:00 UTC (2 hours ago)');
    expect(html).toContain('<div class="count expired"><div class="n">1</div>');
    expect(html).toContain('<div class="count ok"><div class="n">1</div>');
    expect(html).toContain('<b>watcher</b>: the watcher token expired');
  });

  it('escapes every value: a credential named <script> renders as text', () => {
    const hostile = '<script>alert(1)</script>';
    const scan = storedScanOf(
      [
        item({
          id: 'us-x',
          name: hostile,
          owner: '"><img src=x onerror=alert(2)>',
          secretName: "it's<b>",
          reason: '<iframe>',
          action: '<a href="javascript:alert(3)">click</a>',
          state: 'warn',
        }),
      ],
      now,
      [{ identity: '<svg onload=alert(4)>', message: '</div><script>x</script>' }],
    );
    const html = renderInventoryPage({ scan, now, rotations: [rotation({ secretName: '<script>s</script>', reason: '<b>why</b>' })] });
    expect(html).not.toMatch(/<script|<img|<iframe|<svg|<a href="javascript/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('it&#39;s&lt;b&gt;');
  });

  it('explains what to do when no scan has finished yet', () => {
    const html = renderInventoryPage({ scan: null, now });
    expect(html).toContain('No scan has finished yet');
    expect(html).toContain('add a scan job');
    expect(html).toContain('href="/dashboard/queue/scan"');
    expect(html).not.toContain('<table');
  });

  it("marks the worker's own identity, and only it", () => {
    const html = renderInventoryPage({ scan: seededScan(now), now });
    expect(rowOf(html, 'watcher')).toContain('worker identity');
    expect(rowOf(html, 'payments-api')).not.toContain('worker identity');
    expect(html.match(/worker identity<\/span>/g)).toHaveLength(1);
  });

  it('shows a rotation in flight as the next action, and the recent rotations', () => {
    const scan = storedScanOf([item({ id: 'us-pay', name: 'payments', state: 'rotate', expiresAt: now + 5 * DAY_MS })], now);
    const inFlight = renderInventoryPage({ scan, now, rotations: [rotation({ step: 'created' })] });
    expect(rowOf(inFlight, 'payments')).toContain('rotation in progress (step: created)');
    expect(inFlight).toContain('<h2>Recent rotations</h2>');
    expect(inFlight).toContain('01JROT00000000000000000000');

    const parked = renderInventoryPage({ scan, now, rotations: [rotation({ step: 'parked' })] });
    expect(rowOf(parked, 'payments')).toContain('waits for a Dfns policy approval');

    const done = renderInventoryPage({ scan, now, rotations: [rotation({ step: 'done' })] });
    expect(rowOf(done, 'payments')).toContain('rotation (replace) queued by the scan');
    expect(renderInventoryPage({ scan, now, rotations: [] })).toContain('No rotation yet.');
    expect(renderInventoryPage({ scan, now })).not.toContain('Recent rotations');
  });

  it('shows commands in action texts as code, still escaped', () => {
    const scan = storedScanOf([item({ id: 'us-a', name: 'legacy', state: 'warn', action: 'adopt it with `dfns-rotator adopt <name>`' })], now);
    expect(rowOf(renderInventoryPage({ scan, now }), 'legacy')).toContain('adopt it with <code class="mono">dfns-rotator adopt &lt;name&gt;</code>');
  });

  it('says "never" for the last rotation of an adopted credential, and when it was adopted', () => {
    const adopted = item({ id: 'us-a', name: 'adopted', managed: true, role: 'current', adoptedAt: now - 3 * 86_400_000 });
    const rotated = item({ id: 'us-r', name: 'rotated', managed: true, role: 'current', adoptedAt: now - 30 * 86_400_000, lastRotatedAt: now - 86_400_000 });
    const html = renderInventoryPage({ scan: storedScanOf([adopted, rotated], now), now });
    expect(rowOf(html, 'adopted')).toContain('never; adopted ');
    expect(rowOf(html, 'adopted')).toContain('3 days ago');
    expect(rowOf(html, 'rotated')).not.toContain('never');
    expect(rowOf(html, 'rotated')).toContain('1 day ago');
  });

  it('reports a scan that could not be read', () => {
    const html = renderInventoryPage({ scan: null, now, loadError: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(html).toContain('Could not read the last scan: connect ECONNREFUSED 127.0.0.1:6379');
    expect(html).not.toContain('No scan has finished yet');
  });

  it('loads nothing from elsewhere and runs no script', () => {
    const html = renderInventoryPage({ scan: seededScan(now), now });
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('href="/dashboard"');
  });

  it.each([
    [now + 10 * DAY_MS + 5, 'in 10 days'],
    [now + DAY_MS, 'in 1 day'],
    [now + 5 * 3_600_000, 'in 5 hours'],
    [now + 90_000, 'in 1 minute'],
    [now + 30_000, 'in under a minute'],
    [now - 30_000, 'just now'],
    [now - 2 * DAY_MS, '2 days ago'],
  ])('formats %d relative to now as %s', (target, text) => {
    expect(formatRelative(target, now)).toBe(text);
  });
});
