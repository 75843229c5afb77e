import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/jobs/runtime.js';
import { DEFAULT_WARNINGS_PER_SCAN } from '../../src/jobs/scan.js';
import { SlackNotifier } from '../../src/notify/slack.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/** A first scan of an org with many credentials near expiry must not flood the channel. */
describe('scan warnings beyond the per-scan limit', () => {
  const slack = new FakeSlack();
  let fx: Fixture;
  let rt: Runtime;

  beforeAll(async () => {
    await slack.start();
    fx = await startFixture({
      serviceAccounts: Array.from({ length: 30 }, (_, i) => ({ name: `batch-${String(i).padStart(2, '0')}`, ageDays: 720 + (i % 5) })),
    });
    rt = fx.runtime({ notifier: new SlackNotifier({ webhookUrl: slack.webhookUrl, allowAnyHost: true, clock: fx.sim.clock }) });
    rt.startWorkers();
  });

  afterAll(async () => {
    const redis = newRedis();
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
    await slack.stop();
  });

  it('sends the most urgent one by one and the rest in one message, then stays quiet', async () => {
    await runJob(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.notify);
    const texts = slack.received.map((r) => String(r.body.text));
    const single = texts.filter((t) => t.startsWith('Rotation due:'));
    const batch = texts.filter((t) => t.startsWith('Expiry warnings:'));
    expect(single).toHaveLength(DEFAULT_WARNINGS_PER_SCAN);
    expect(batch).toEqual([expect.stringMatching(/^Expiry warnings: 10 more credentials crossed an expiry threshold \(10 due for rotation\)/)]);
    // The most urgent (oldest) go first: all of age 724 are among the single messages.
    for (const i of [4, 9, 14, 19, 24, 29]) expect(single.some((t) => t.includes(`batch-${String(i).padStart(2, '0')}`))).toBe(true);
    expect(texts.filter((t) => t.startsWith('Credential scan'))).toHaveLength(1);

    const before = slack.received.length;
    await runJob(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.notify);
    expect(slack.received.length).toBe(before);
  });
});
