import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { StoredScan } from '../../src/jobs/state/scan-results.js';
import type { ScanSummary } from '../../src/model.js';
import { SlackNotifier } from '../../src/notify/slack.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { FakeSlack, SECRET_TOKEN } from '../helpers/fake-slack.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue "Expiry watch", done-when: against the simulator seeded with credentials of many ages
 * (held and not held, inactive, one without exp), a scan classifies each correctly with exact vs
 * estimated expiry; moving the simulator's clock moves credentials through the thresholds; each
 * threshold is announced on Slack exactly once.
 */
describe('scan against the simulator', () => {
  const slack = new FakeSlack();
  let fx: Fixture;
  let rt: Runtime;

  beforeAll(async () => {
    await slack.start();
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay-held', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        { name: 'ledger-held', held: true, ageDays: 10, daysValid: 365 },
        { name: 'legacy-unheld', ageDays: 705 },
        { name: 'ok-unheld', ageDays: 100 },
        { name: 'off', ageDays: 400, isActive: false },
        { name: 'noexp-held', held: true, noExpiry: true, ageDays: 50 },
      ],
      pats: [{ name: 'op-ci', owner: OPERATOR, held: true, ageDays: 27, daysValid: 30 }],
    });
    rt = fx.runtime({ notifier: new SlackNotifier({ webhookUrl: slack.webhookUrl, allowAnyHost: true, clock: fx.sim.clock }) });
    for (const name of ['pay-held', 'ledger-held', 'noexp-held']) await fx.adopt(name, `sa/${name}`);
    await fx.adopt('op-ci', 'pat/op-ci', 'pat');
    // Only scans and notifications run here: queued rotations stay queued.
    rt.startWorkers();
    await rt.workers().find((w) => w.name === 'rotate')?.pause();
  });

  afterAll(async () => {
    const redis = newRedis();
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
    await slack.stop();
  });

  async function scan(): Promise<{ summary: ScanSummary; stored: StoredScan; messages: string[] }> {
    const before = slack.received.length;
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.notify);
    const stored = (await rt.results.load())!;
    return { summary, stored, messages: slack.received.slice(before).map((r) => String(r.body.text)) };
  }

  const warnings = (messages: string[]) => messages.filter((m) => !m.startsWith('Credential scan'));
  const digests = (messages: string[]) => messages.filter((m) => m.startsWith('Credential scan'));
  const byName = (stored: StoredScan) => Object.fromEntries(stored.items.map((i) => [i.name, i]));

  it('classifies every credential, exact where the token is held and estimated where not', async () => {
    const { summary, stored, messages } = await scan();
    const items = byName(stored);
    expect(Object.keys(items).sort()).toEqual(['ledger-held', 'legacy-unheld', 'noexp-held', 'off', 'ok-unheld', 'op-ci', 'pay-held']);
    expect(items['pay-held']).toMatchObject({ state: 'rotate', expirySource: 'token', daysLeft: 9, managed: true, secretName: 'sa/pay-held', strategy: 'replace' });
    expect(items['ledger-held']).toMatchObject({ state: 'ok', expirySource: 'token', managed: true });
    expect(items['legacy-unheld']).toMatchObject({ state: 'warn', expirySource: 'estimate', threshold: 30, managed: false, strategy: 'notify' });
    expect(items['ok-unheld']).toMatchObject({ state: 'ok', expirySource: 'estimate' });
    expect(items.off).toMatchObject({ state: 'inactive' });
    expect(items['noexp-held']).toMatchObject({ state: 'unknown', expirySource: 'none', managed: true });
    expect(items['op-ci']).toMatchObject({ kind: 'pat', owner: OPERATOR, state: 'rotate', expirySource: 'token', threshold: 3 });
    expect(stored.items[0]!.state).toBe('rotate');

    expect(summary).toMatchObject({ total: 7, rotationsQueued: 2, counts: { ok: 2, warn: 1, rotate: 2, expired: 0, inactive: 1, unknown: 1 } });
    expect(summary.errors).toEqual([]);
    const rotations = await rt.queues.rotate.getJobs(['waiting', 'prioritized']);
    expect(rotations.map((j) => j.data.credential).sort()).toEqual(['pat/op-ci', 'sa/pay-held']);
    expect(JSON.stringify(rotations.map((j) => j.data))).not.toMatch(/eyJ|PRIVATE/);

    // pay-held and op-ci are being rotated (queued by this scan): their rotation will report itself.
    const w = warnings(messages);
    expect(w).toHaveLength(2);
    expect(w.filter((m) => m.includes('legacy-unheld'))).toEqual([expect.stringMatching(/expires in 25 days.*\(estimated\)/)]);
    expect(w.filter((m) => m.includes('noexp-held'))).toEqual([expect.stringMatching(/rotate it once by hand/)]);
    expect(digests(messages)).toEqual([expect.stringMatching(/^Credential scan .*7 credentials.*2 rotations queued/)]);
    expect(messages.join('\n')).not.toMatch(/eyJ|PRIVATE KEY|xS3cr3t/);
  });

  it('warns about a rotation that is not getting done, then does not repeat itself', async () => {
    // The rotate worker is paused: op-ci, inside 3 days, is still not rotated on the next scan.
    const { summary, messages } = await scan();
    expect(messages).toEqual([expect.stringMatching(/^Rotation due: .*"op-ci".*has not managed to yet: check `npx dfns-rotator history --secret pat\/op-ci`/)]);
    expect(summary.rotationsQueued).toBe(0);
    const again = await scan();
    expect(again.messages).toEqual([]);
  });

  it('announces each newly crossed threshold once as time passes', async () => {
    fx.sim.clock.advance(12 * DAY_MS);
    const { stored, messages } = await scan();
    const items = byName(stored);
    expect(items['legacy-unheld']).toMatchObject({ state: 'rotate', threshold: 14, daysLeft: 13 });
    expect(items['pay-held']).toMatchObject({ state: 'expired' });
    expect(items['op-ci']).toMatchObject({ state: 'expired' });
    const w = warnings(messages);
    expect(w).toHaveLength(3);
    expect(w.filter((m) => m.includes('legacy-unheld'))).toEqual([expect.stringMatching(/expires in 13 days/)]);
    expect(w.filter((m) => m.includes('pay-held'))).toEqual([expect.stringMatching(/expired/)]);
    expect(w.filter((m) => m.includes('op-ci'))).toEqual([expect.stringMatching(/expired/)]);
    expect(digests(messages)).toHaveLength(1);

    const again = await scan();
    expect(again.messages).toEqual([]);

    fx.sim.clock.advance(7 * DAY_MS);
    const later = await scan();
    // 6 days left: the 7-day threshold, plus the new day's digest; nothing about the expired ones again.
    expect(byName(later.stored)['legacy-unheld']).toMatchObject({ threshold: 7, daysLeft: 6 });
    expect(warnings(later.messages)).toEqual([expect.stringMatching(/legacy-unheld.*expires in 6 days/)]);
    expect(digests(later.messages)).toHaveLength(1);
    expect(slack.received.every((r) => !r.url.includes('undefined'))).toBe(true);
    expect(fx.logs.join('\n')).not.toContain(SECRET_TOKEN);
  });
});
