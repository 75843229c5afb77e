import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonOptions } from '../../src/daemon/daemon.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { startPrivateRedis } from '../../src/redis/private-redis.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue "The daemon": graceful shutdown with a deadline — active jobs finish or are left to
 * resume, never half-written. A rotation is held in the middle of its work while the daemon is
 * told to stop; the stop returns at the deadline, and the next daemon finishes the rotation.
 */
describe('daemon shutdown with a job still running', () => {
  let fx: Fixture;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'slow', held: true, ageDays: 300, daysValid: 365 }] });
    await fx.adopt('slow', 'sa/slow');
  });
  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const options = (hooks?: NonNullable<DaemonOptions['runtime']>['rotationHooks']): DaemonOptions => ({
    config: fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: 'shutdown-test-token-0123456789' }),
    logger: fx.logger,
    runtime: { clock: fx.sim.clock, sleep: fx.sleep, dfnsRetry: { baseDelayMs: 1, maxDelayMs: 5 }, jobBackoffMs: 10, ...(hooks ? { rotationHooks: hooks } : {}) },
    workers: { lockDurationMs: 1000, stalledIntervalMs: 300 },
    server: { port: 0 },
    schedule: false,
    catchUp: false,
    shutdownTimeoutMs: 300,
    collectProcessMetrics: false,
  });

  it('stops at the deadline, and the next daemon resumes the rotation from its last saved step', async () => {
    let reachedStaged!: () => void;
    const staged = new Promise<void>((resolve) => (reachedStaged = resolve));
    const first = await startDaemon(
      options({
        // Hold the rotation after its key is staged, as a slow Dfns would.
        afterStep: (r: RotationRecord) => (r.step === 'staged' ? (reachedStaged(), new Promise<never>(() => {})) : undefined),
      }),
    );
    const rotationId = ulid(Date.now());
    await enqueueRotation(first.runtime.queues.rotate, { secretName: 'sa/slow', reason: 'shutdown test', requestedBy: 'test', rotationId, requestedAt: fx.sim.clock.now() });
    await staged;

    const before = Date.now();
    await first.stop('test');
    // The stop did not wait for the held job beyond its deadline.
    expect(Date.now() - before).toBeLessThan(5_000);
    const record = (await fx.runtime().rotations.get(rotationId))!;
    expect(record.step).toBe('staged');
    const store = (await fx.runtime().store.get('sa/slow'))!;
    expect(store.versions.find((v) => v.stages.includes('pending'))?.metadata.rotationId).toBe(rotationId);

    const second = await startDaemon(options());
    const events = new QueueEvents('rotate', { connection: second.runtime.redis, prefix: fx.config.redis.prefix });
    try {
      await events.waitUntilReady();
      const job = (await second.runtime.queues.rotate.getJob(`rotate_${rotationId}`))!;
      const result = (await job.waitUntilFinished(events, 20_000)) as RotateResult;
      expect(result).toMatchObject({ rotationId, step: 'retire-scheduled' });
      // The key staged before the stop is the one that became current: nothing was redone from scratch.
      const after = (await second.runtime.store.get('sa/slow'))!;
      const current = after.versions.find((v) => v.stages.includes('current'))!;
      expect(current.versionId).toBe(store.versions.find((v) => v.stages.includes('pending'))!.versionId);
      expect(current.value.name).toBe('slow-g2');
    } finally {
      await events.close();
      await second.stop('test over');
    }
  });

  it('warns loudly at start when Redis may evict keys, and still starts', async () => {
    const evicting = await startPrivateRedis();
    const admin = new Redis(evicting.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const base = options();
      const daemon = await startDaemon({ ...base, config: fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: 'shutdown-test-token-0123456789', REDIS_URL: evicting.url }) });
      expect(daemon.startup).toMatchObject({ evictionOk: false, evictionPolicy: 'allkeys-lru' });
      expect(fx.logs.join('')).toMatch(/!!! Redis maxmemory-policy is \\"allkeys-lru\\": under memory pressure Redis will evict BullMQ keys/);
      await daemon.stop('test over');
    } finally {
      admin.disconnect();
      await evicting.stop();
    }
  });
});
