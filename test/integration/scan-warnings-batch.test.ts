import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/jobs/runtime.js';
import { runScan, type ScanDeps } from '../../src/jobs/scan.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * The scan claims its warning markers in one pipeline and queues the warnings in one `addBulk`
 * (bench/scan.bench.ts: one round trip per warning made the enqueue most of a 10,000-credential
 * scan). Batched, it must keep the guarantee of one marker per warning: a failed enqueue gives
 * every claim back, so the next scan sends them.
 */
describe('scan warnings, batched', () => {
  let fx: Fixture;
  let rt: Runtime;

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'a-unheld', ageDays: 705 },
        { name: 'b-unheld', ageDays: 720 },
        { name: 'c-unheld', ageDays: 10 },
      ],
    });
    rt = fx.runtime();
  });

  afterAll(async () => {
    const redis = newRedis();
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('claims many markers in one call, one answer per key in order', async () => {
    expect(await rt.markers.claim('batch:x', 60)).toBe(true);
    expect(await rt.markers.claimAll(['batch:w', 'batch:x', 'batch:y', 'batch:w'], 60)).toEqual([true, false, true, false]);
    await rt.markers.releaseAll(['batch:w', 'batch:x']);
    expect(await rt.markers.claimAll(['batch:w', 'batch:x', 'batch:y'], 60)).toEqual([true, true, false]);
    expect(await rt.markers.claimAll([], 60)).toEqual([]);
  });

  it('gives every claim back when queueing fails, so the next scan sends the warnings', async () => {
    const deps: ScanDeps = { ...rt.scanDeps, digest: 'off' };
    const failing: ScanDeps = {
      ...deps,
      notify: {
        enqueue: deps.notify.enqueue,
        enqueueAll: async () => {
          throw new Error('notify queue unavailable');
        },
      },
    };
    await expect(runScan(failing, { trigger: 'manual' })).rejects.toThrow('notify queue unavailable');
    expect(await rt.queues.notify.getJobCounts('waiting')).toEqual({ waiting: 0 });

    const summary = await runScan(deps, { trigger: 'manual' });
    expect(summary.notificationsQueued).toBe(2);
    const jobs = await rt.queues.notify.getJobs(['waiting']);
    expect(jobs.map((j) => (j.data as { credential: { name: string } }).credential.name).sort()).toEqual(['a-unheld', 'b-unheld']);

    const again = await runScan(deps, { trigger: 'manual' });
    expect(again.notificationsQueued).toBe(0);
    expect(await rt.queues.notify.getJobCounts('waiting')).toEqual({ waiting: 2 });
  });
});
