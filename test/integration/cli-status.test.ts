import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { statusCommand } from '../../src/commands/status.js';
import type { StatusReport } from '../../src/commands/status-report.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { freePort, startPrivateRedis } from '../../src/redis/private-redis.js';
import { parseTable, runCommand } from '../helpers/command-context.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * `dfns-rotator status`: the daemon's health from Redis, and an exit code a cron check can use:
 * 1 without a recent scan, with a failed rotation in the last 24 hours, or on a Redis that may
 * evict jobs; 0 otherwise, parked rotations included (they wait for people, by design).
 */
describe('status command', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        { name: 'broken', held: true, ageDays: 300, daysValid: 365 },
        { name: 'approvals', held: true, ageDays: 300, daysValid: 365 },
      ],
    });
    rt = fx.runtime();
    for (const name of ['pay', 'broken', 'approvals']) await fx.adopt(name, `sa/${name}`);
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const status = (argv: string[] = [], options: { env?: Record<string, string>; clock?: ManualClock } = {}) =>
    runCommand(statusCommand, argv, { env: options.env ?? fx.env, cwd: fx.dir, clock: options.clock ?? fx.sim.clock });
  const json = async (options: Parameters<typeof status>[1] = {}) => {
    const run = await status(['--json'], options);
    return { code: run.code, report: JSON.parse(run.out[0]!) as StatusReport & { ok: boolean } };
  };

  it('fails while no scan has ever finished', async () => {
    const run = await status();
    expect(run.code).toBe(1);
    expect(run.out).toContain('Last scan: none yet (schedule "17 * * * *")');
    expect(run.out.at(-1)).toBe('PROBLEM: no scan has finished yet: is the daemon running?');
  });

  it('after a scan, reports it, the queues and the backlog, and exits 0', async () => {
    await runJob(rt.queues.scan, 'scan', { trigger: 'manual' });
    const run = await status();
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.out[1]).toMatch(/^Redis: redis:\/\/127\.0\.0\.1:\d+ \(maxmemory-policy noeviction\)$/);
    expect(run.out[2]).toMatch(/^Last scan: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just now|in under a minute); schedule "17 \* \* \* \*", stale after 2 hours\)$/);
    expect(run.out[3]).toBe('  3 credentials: expired 0, rotate 1, warn 0, unknown 0, ok 2, inactive 0; 1 rotation queued');
    const queueLines = run.out.slice(run.out.indexOf('') + 1, run.out.indexOf('') + 6);
    const queues = parseTable(queueLines);
    expect(queues.map((q) => q.QUEUE)).toEqual(['scan', 'rotate', 'retire', 'notify']);
    expect(queues[0]).toMatchObject({ COMPLETED: '1', FAILED: '0' });
    expect(run.out).toContain('Failed rotations (last 24 hours): 0');
    expect(run.out.some((l) => /^Notification backlog: \d+/.test(l))).toBe(true);
    expect(run.out.at(-1)).toBe('OK');

    const { code, report } = await json();
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, problems: [], scan: { intervalMs: 3_600_000, staleAfterMs: 7_200_000, total: 3 }, redis: { evictionPolicy: 'noeviction' } });
  });

  it('lists a parked rotation as in flight without failing the check', async () => {
    await drain(rt.queues.rotate); // the one the scan queued
    fx.sim.setKnobs({ policyPending: ['CreateServiceAccount'] });
    const parked = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/approvals', reason: 'status test', requestedBy: 'cli:carol' });
    fx.sim.setKnobs({ policyPending: [] });
    expect(parked.step).toBe('parked');
    const { code, report } = await json();
    expect(report.rotations.inFlight).toEqual([expect.objectContaining({ rotationId: parked.rotationId, secretName: 'sa/approvals', step: 'parked', requestedBy: 'cli:carol' })]);
    expect(code).toBe(0);
    const run = await status();
    expect(run.out).toContain('Rotations in flight: 1 (and 1 done, old credential awaiting retirement)');
  });

  it('fails while a queue is paused, and marks it in the table', async () => {
    await rt.queues.retire.pause();
    try {
      const run = await status();
      expect(run.code).toBe(1);
      expect(run.out.some((l) => l.startsWith('retire (PAUSED)'))).toBe(true);
      expect(run.out).toContain("PROBLEM: queue paused: retire; nothing on it runs until resumed (dashboard: the queue's Resume button)");
      const { report } = await json();
      expect(report.pausedQueues).toEqual(['retire']);
    } finally {
      await rt.queues.retire.resume();
    }
    expect((await status()).code).toBe(0);
  });

  it('fails when the last scan is older than twice the scan interval', async () => {
    const later = new ManualClock(fx.sim.clock.now() + 2 * 3_600_000 + 60_000);
    const run = await status([], { clock: later });
    expect(run.code).toBe(1);
    expect(run.out.at(-1)).toBe('PROBLEM: the last scan finished 2 hours ago, more than twice the scan interval (1 hour, schedule "17 * * * *"): is the daemon running?');
  });

  it('fails on rotations that failed in the last 24 hours, rolled back or refused, and lists them', async () => {
    fx.sim.setKnobs({ serviceAccountInheritsPermissions: true });
    const rolledBack = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/broken', reason: 'status test' });
    fx.sim.setKnobs({ serviceAccountInheritsPermissions: false });
    expect(rolledBack.step).toBe('rolled-back');
    await expect(runJob(rt.queues.rotate, 'rotate', { credential: 'sa/nope', reason: 'status test' })).rejects.toThrow(/no managed credential/);

    const run = await status();
    expect(run.code).toBe(1);
    const start = run.out.indexOf('Failed rotations (last 24 hours): 2');
    expect(start).toBeGreaterThan(0);
    const rows = parseTable(run.out.slice(start + 1, start + 4).map((l) => l.slice(2)));
    expect(rows.map((r) => [r.ROTATION, r.SECRET, r.STEP])).toEqual([
      ['-', 'sa/nope', 'job failed'], // refused before a rotation id was minted
      [rolledBack.rotationId, 'sa/broken', 'rolled-back'],
    ]);
    expect(run.out.at(-1)).toBe('PROBLEM: 2 rotations failed in the last 24 hours (see `npx dfns-rotator history`)');

    // A day later they no longer count (the scan is stale by then, which is its own problem).
    const { report } = await json({ clock: new ManualClock(fx.sim.clock.now() + 25 * 3_600_000) });
    expect(report.rotations.recentFailures).toEqual([]);
  });

  it('fails on a Redis that may evict keys, and when Redis is down', async () => {
    const evicting = await startPrivateRedis();
    const client = new Redis(evicting.url);
    try {
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const { code, report } = await json({ env: { ...fx.env, REDIS_URL: evicting.url } });
      expect(code).toBe(1);
      expect(report.problems).toContain('Redis maxmemory-policy is "allkeys-lru": under memory pressure Redis will evict BullMQ keys and rotations can be lost. Set maxmemory-policy noeviction');
    } finally {
      client.disconnect();
      await evicting.stop();
    }
    const port = await freePort();
    const down = await status([], { env: { ...fx.env, REDIS_URL: `redis://127.0.0.1:${port}` } });
    expect(down.code).toBe(1);
    expect(down.err).toEqual([expect.stringMatching(/^cannot reach Redis at /)]);
  });
});
