import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusMetrics } from '../../src/server/prometheus.js';
import { renderInventoryPage } from '../../src/server/inventory-page.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { ScanSummary } from '../../src/model.js';
import type { Notification, Notifier } from '../../src/notify/types.js';
import { dataFileName } from '../../src/secrets/file-names.js';
import { secretCommand } from '../../src/commands/secret.js';
import { runCommand } from '../helpers/command-context.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 13: a damaged store file used to fail every scan (and the daemon's start), leaving every
 * other credential unwatched. Now the scan reads what it can, reports the damaged secret as its
 * own inventory item in state `error` with the recovery step, alerts once, and classifies the rest.
 */
describe('a scan with one damaged store file', () => {
  const sent: Notification[] = [];
  const notifier: Notifier = { description: 'recording', send: async (n) => void sent.push(n) };
  const registry = new Registry();
  let fx: Fixture;
  let rt: Runtime;
  const storeDir = () => (fx.config.store.kind === 'file' ? fx.config.store.dir : '');

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365 },
        { name: 'ledger', held: true, ageDays: 10, daysValid: 365 },
        { name: 'broken', held: true, ageDays: 100, daysValid: 365 },
      ],
    });
    rt = fx.runtime({ notifier, metrics: createPrometheusMetrics(registry, { defaultMetrics: false }) });
    for (const name of ['pay', 'ledger', 'broken']) await fx.adopt(name, `sa/${name}`);
    // Truncated by a bad disk, a bad restore, a hand edit: no longer an envelope the store can open.
    writeFileSync(join(storeDir(), dataFileName('sa/broken')), '{"v":1,"trunc', { mode: 0o600 });
    rt.startWorkers();
    await rt.workers().find((w) => w.name === 'rotate')?.pause();
  });

  afterAll(async () => {
    const redis = newRedis();
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('reports the damaged secret with its recovery step, classifies the rest, and alerts once', async () => {
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.notify);
    expect(summary.damaged).toEqual([
      {
        secretName: 'sa/broken',
        where: join(storeDir(), dataFileName('sa/broken')),
        problem: expect.stringContaining('is corrupt'),
        action: expect.stringContaining('restore this secret\'s file from a backup of the store folder'),
      },
    ]);
    expect(summary.damaged![0]!.action).toContain('npx dfns-rotator adopt --secret sa/broken --replace');

    const stored = (await rt.results.load())!;
    const byName = new Map(stored.items.map((i) => [i.name, i]));
    expect(byName.get('pay')).toMatchObject({ managed: true, secretName: 'sa/pay', state: 'rotate', expirySource: 'token' });
    expect(byName.get('ledger')).toMatchObject({ managed: true, secretName: 'sa/ledger', state: 'ok', expirySource: 'token' });
    // The damaged secret's credential is still listed by Dfns: watched, as unmanaged, never rotated.
    expect(byName.get('broken')).toMatchObject({ managed: false, role: 'unmanaged', strategy: 'notify' });
    expect(summary.rotationsQueued).toBe(1);

    expect(await registry.getSingleMetricAsString('dfns_rotator_store_unreadable_secrets')).toMatch(/^dfns_rotator_store_unreadable_secrets 1$/m);

    const alerts = sent.filter((n) => n.type === 'store-damaged');
    expect(alerts).toEqual([expect.objectContaining({ type: 'store-damaged', secretName: 'sa/broken' })]);

    // The inventory page shows it as its own row in state error, with the step.
    const html = renderInventoryPage({ scan: stored, now: fx.sim.clock.now() });
    expect(html).toContain('<tr data-state="error">');
    expect(html).toContain('<span class="badge error">error</span>');

    // The next scan still reports it, but does not alert again.
    const again = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.notify);
    expect(again.damaged?.map((d) => d.secretName)).toEqual(['sa/broken']);
    expect(sent.filter((n) => n.type === 'store-damaged')).toHaveLength(1);
  });

  it('lets the daemon start: the start-up check names the file instead of refusing', async () => {
    const { runStartupChecks } = await import('../../src/daemon/startup-checks.js');
    const report = await runStartupChecks(rt, fx.logger);
    expect(report.secrets).toBe(2);
    expect(fx.logs.some((l) => l.includes('unreadable secret in the store') && l.includes('sa/broken'))).toBe(true);
  });

  it('secret list shows every readable secret, names the damaged one with its step, and exits 1', async () => {
    const run = await runCommand(secretCommand, ['list'], { env: fx.env, cwd: fx.dir });
    expect(run.out.join('\n')).toContain('sa/pay');
    expect(run.out.join('\n')).toContain('sa/ledger');
    expect(run.err).toEqual([expect.stringMatching(/^unreadable: sa\/broken \(.+\): .*is corrupt.*restore this secret's file from a backup/)]);
    expect(run.code).toBe(1);
  });

  it('still refuses a strict list rather than pretend the secret is absent, but finds other secrets by credential id', async () => {
    await expect(rt.store.list()).rejects.toThrow(/is corrupt/);
    const { resolveSecretName } = await import('../../src/jobs/effects/rotation-plan.js');
    const pay = (await rt.results.load())!.items.find((i) => i.name === 'pay')!;
    expect(await resolveSecretName(rt.store, `sa:${pay.id}`)).toBe('sa/pay');
  });
});
