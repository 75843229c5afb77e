import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureChromium, launchChromium } from '../helpers/chromium.js';
import { DAEMON_DASHBOARD_TOKEN as DASHBOARD_TOKEN, DAEMON_SEEDED_NAMES as SEEDED_NAMES, startDaemonDashboard, type DaemonDashboard } from '../helpers/daemon-dashboard.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** bull-board's HTML links Google Fonts; the CSP blocks it on purpose (no internet, no third party). */
const EXPECTED_NOISE = /fonts\.googleapis\.com/;

/**
 * Opens the menu that holds `item`, found by the item's visible text: bull-board's menu triggers
 * are icon buttons without a name. Retried while the page is still rendering its menus.
 */
async function openMenuWith(page: Page, item: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const triggers = page.locator('button[aria-haspopup="menu"]');
      const count = await triggers.count();
      for (let i = 0; i < count; i++) {
        await triggers.nth(i).click();
        const menu = page.getByRole('menu');
        await menu.waitFor({ timeout: 2_000 });
        if ((await menu.getByRole('menuitem', { name: item, exact: true }).count()) > 0) return;
        await page.keyboard.press('Escape');
        await menu.waitFor({ state: 'hidden', timeout: 2_000 });
      }
      throw new Error(`no menu on ${page.url()} has an item "${item}"`);
    },
    { timeout: 15_000, interval: 200 },
  );
}

describe('dashboard in a browser', () => {
  let fx: DaemonDashboard;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const problems: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    ensureChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    fx = await startDaemonDashboard();
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('signs in, adds a scan job with bull-board\'s "Add job", and shows the inventory', async () => {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_NOISE.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => {
      if (!EXPECTED_NOISE.test(r.url())) problems.push(`request failed: ${r.url()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });

    await page.goto(`${fx.url}/dashboard`);
    expect(page.url()).toBe(`${fx.url}/login?next=%2Fdashboard`);
    await page.getByLabel('Dashboard token').fill(DASHBOARD_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${fx.url}/dashboard`);

    // bull-board lists the four queues.
    for (const queue of ['scan', 'rotate', 'retire', 'notify']) {
      await page.getByRole('link', { name: queue, exact: true }).first().waitFor();
    }

    // "Add job" on the scan queue: the dialog pre-fills the data from the queue's schema example.
    await page.getByRole('link', { name: 'scan', exact: true }).first().click();
    await page.waitForURL(`${fx.url}/dashboard/queue/scan`);
    await openMenuWith(page, 'Add job');
    await page.getByRole('menuitem', { name: 'Add job', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Add job' }).waitFor();
    // (Filled once the schema has loaded.)
    await vi.waitFor(async () => expect(JSON.parse((await dialog.locator('input[name="jobData"]').inputValue()) || 'null')).toEqual({ trigger: 'manual' }), {
      timeout: 10_000,
      interval: 100,
    });
    await dialog.getByLabel('Job name').fill('scan');
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The job reached Redis and the daemon's scan worker ran it against the (simulated) Dfns.
    const job = await vi.waitFor(
      async () => {
        const [found] = await fx.queues.scan.getJobs(['completed']);
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(job.name).toBe('scan');
    // Attributed to the signed-in identity, with a "requested" entry in the audit log.
    expect(job.data).toEqual({ trigger: 'manual', requestedBy: 'dashboard:token' });
    expect(job.returnvalue).toMatchObject({ total: SEEDED_NAMES.length });
    expect(await fx.daemon.runtime.audit.read({ limit: 20 })).toContainEqual(expect.objectContaining({ actor: 'dashboard:token', action: 'scan requested' }));
    // And the dashboard shows it.
    await page.getByText('Completed', { exact: false }).first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    // bull-board's Duplicate pre-fills the job's own id and options: the daemon replaces them, so
    // the copy is a new job (not silently the old one), attributed like any other.
    await page.goto(`${fx.url}/dashboard/queue/scan?status=completed`);
    // Icon buttons without a name (bull-board 9.10): on a completed job, Duplicate comes first.
    await page.locator('[class*="jobActions"] li button').first().click();
    const duplicateDialog = page.getByRole('dialog');
    await duplicateDialog.getByRole('heading', { name: 'Duplicate job' }).waitFor();
    await duplicateDialog.getByRole('button', { name: 'Duplicate', exact: true }).click();
    await duplicateDialog.waitFor({ state: 'hidden' });
    const copy = await vi.waitFor(
      async () => {
        const found = (await fx.queues.scan.getJobs(['completed', 'waiting', 'active'])).find((j) => j.id !== job.id);
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(copy.id).toMatch(/^scan_manual_[0-9A-Z]{26}$/);
    expect(copy.data).toEqual({ trigger: 'manual', requestedBy: 'dashboard:token' });

    // On the rotate queue, Add job is pre-filled with a secret the store really holds.
    // (A fresh page: bull-board's dialog remembers the duplicated job otherwise.)
    await page.goto(`${fx.url}/dashboard/queue/rotate`);
    await openMenuWith(page, 'Add job');
    await page.getByRole('menuitem', { name: 'Add job', exact: true }).click();
    const rotateDialog = page.getByRole('dialog');
    await rotateDialog.getByRole('heading', { name: 'Add job' }).waitFor();
    await vi.waitFor(
      async () => expect(JSON.parse((await rotateDialog.locator('input[name="jobData"]').inputValue()) || 'null')).toEqual({ credential: 'payments/api', reason: 'manual rotation from the dashboard' }),
      { timeout: 10_000, interval: 100 },
    );
    await page.keyboard.press('Escape');
    await rotateDialog.waitFor({ state: 'hidden' });

    // From bull-board to the inventory through its menu link.
    await openMenuWith(page, 'Inventory');
    await page.getByRole('menuitem', { name: 'Inventory', exact: true }).click();
    await page.waitForURL(`${fx.url}/inventory`);
    await page.getByRole('heading', { name: 'Credential inventory' }).waitFor();
    for (const name of SEEDED_NAMES) {
      await page.getByRole('cell', { name, exact: false }).first().waitFor();
    }
    expect(await page.locator('tbody tr').count()).toBe(SEEDED_NAMES.length);
    expect(await page.getByText('worker identity', { exact: true }).count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}inventory.png`, fullPage: true });

    // And back.
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.waitForURL(`${fx.url}/dashboard`);
    await page.getByRole('link', { name: 'scan', exact: true }).first().waitFor();

    // The hostile credential name never ran, the CSP broke nothing, no request failed.
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});
