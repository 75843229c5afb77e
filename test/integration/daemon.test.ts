import { QueueEvents, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue "The daemon", done-when: two daemons on one Redis give one scan per tick, and manual
 * triggers through the dashboard's HTTP API work with credentials and are refused without.
 */
const TOKEN = 'daemon-test-token-0123456789abcdef';

describe('two daemons on one Redis', () => {
  let fx: Fixture;
  let daemons: Daemon[] = [];
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'svc-held', held: true, ageDays: 100, daysValid: 365 },
        { name: 'svc-estimated', ageDays: 20 },
      ],
    });
    await fx.adopt('svc-held', 'sa/svc-held');
    // Every second, so the test sees several ticks without waiting minutes.
    const config = fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: TOKEN, DFNS_ROTATOR_SCHEDULE: '* * * * * *' });
    const start = (name: string) =>
      startDaemon({
        config,
        logger: fx.logger.child({ daemon: name }),
        runtime: { clock: fx.sim.clock, sleep: fx.sleep, dfnsRetry: { baseDelayMs: 1, maxDelayMs: 5 }, jobBackoffMs: 10, notifyLimiter: { max: 1000, duration: 1000 }, actor: name },
        server: { port: 0 },
        catchUp: false,
        collectProcessMetrics: false,
      });
    daemons = [await start('daemon-a'), await start('daemon-b')];
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop('test over')));
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const scanQueue = () => daemons[0]!.runtime.queues.scan;

  it('queues one scan per tick however many daemons fire', async () => {
    const at = new Date('2030-01-01T00:00:00Z');
    await Promise.all([...daemons, ...daemons].map((d) => d.schedule!.tick(at)));
    const jobs = await scanQueue().getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized']);
    expect(jobs.filter((j) => j.data.tick === '2030-01-01T00:00:00Z')).toHaveLength(1);
  });

  it('runs the real schedule on both daemons without doubling any scan', async () => {
    // Wait for three real ticks of the per-second schedule to be scanned.
    await vi.waitFor(async () => {
      const done = await scanQueue().getJobs(['completed']);
      expect(done.filter((j: Job) => j.data.trigger === 'schedule' && j.data.tick !== '2030-01-01T00:00:00Z').length).toBeGreaterThanOrEqual(3);
    }, { timeout: 15_000, interval: 200 });
    for (const d of daemons) await d.schedule!.stop();
    const all = (await scanQueue().getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'])).filter((j) => j.data.trigger === 'schedule');
    const ticks = all.map((j) => j.data.tick as string);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(all.every((j) => j.id === `scan_${(j.data.tick as string).replace(/:/g, '-')}`)).toBe(true);
    const stored = await daemons[1]!.runtime.results.load();
    expect(stored?.items.map((i) => i.name).sort()).toEqual(['svc-estimated', 'svc-held']);
  });

  it("shares the work: each daemon's own worker processes scans", async () => {
    // Observed per daemon (its worker's own 'completed' events), with the other daemon's scan
    // worker paused so the outcome does not depend on which worker wins the race for a job.
    const scanWorker = (d: Daemon) => d.runtime.workers().find((w) => w.name === 'scan')!;
    for (const [index, d] of daemons.entries()) {
      const other = daemons[1 - index]!;
      await scanWorker(other).pause();
      const seen: string[] = [];
      const onCompleted = (job: Job) => seen.push(job.id!);
      scanWorker(d).on('completed', onCompleted);
      try {
        const job = await scanQueue().add('scan', { trigger: 'manual', requestedBy: `share-${index}` });
        await vi.waitFor(() => expect(seen).toContain(job.id), { timeout: 15_000, interval: 50 });
      } finally {
        scanWorker(d).off('completed', onCompleted);
        scanWorker(other).resume();
      }
    }
  });

  it('takes manual triggers through the dashboard API only with credentials', async () => {
    const url = `${daemons[0]!.server!.url}/dashboard/api/queues/scan/add`;
    const body = JSON.stringify({ name: 'scan', data: { trigger: 'manual' } });
    const before = await scanQueue().count();

    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(refused.status).toBe(401);
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token-at-all-0000' }, body });
    expect(wrong.status).toBe(401);
    expect(await scanQueue().count()).toBe(before);

    const events = new QueueEvents('scan', { connection: daemons[0]!.runtime.redis, prefix: fx.config.redis.prefix });
    await events.waitUntilReady();
    try {
      const accepted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
      expect(accepted.status).toBe(200);
      const manual = (await scanQueue().getJobs(['waiting', 'active', 'completed', 'prioritized'])).find((j) => j.data.requestedBy === 'dashboard:token')!;
      const summary = (await manual.waitUntilFinished(events, 20_000)) as { total: number };
      expect(summary.total).toBe(2);

      // Bad data is refused at Add job, naming the field, and nothing is queued…
      const rotateUrl = `${daemons[1]!.server!.url}/dashboard/api/queues/rotate/add`;
      const bad = await fetch(rotateUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ name: 'rotate', data: { credential: 'sa/svc-held' } }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toMatch(/^data\.reason: /);
      expect(await daemons[1]!.runtime.queues.rotate.count()).toBe(0);
      // …and a bad job that reaches the queue another way (a script with Redis access) fails with
      // a message naming the field; the daemon goes on.
      await daemons[1]!.runtime.queues.rotate.add('rotate', { credential: 'sa/svc-held' });
      const rotateEvents = new QueueEvents('rotate', { connection: daemons[0]!.runtime.redis, prefix: fx.config.redis.prefix });
      await rotateEvents.waitUntilReady();
      const job = (await daemons[1]!.runtime.queues.rotate.getJobs(['waiting', 'active', 'failed', 'prioritized']))[0]!;
      await expect(job.waitUntilFinished(rotateEvents, 20_000)).rejects.toThrow(/invalid rotate job data: reason: /);
      await rotateEvents.close();
      const ready = await fetch(`${daemons[1]!.server!.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await events.close();
    }
  });
});
