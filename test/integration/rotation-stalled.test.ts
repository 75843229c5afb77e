import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ulid } from '../../src/jobs/queues/ids.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { LineChild } from '../helpers/line-child.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 8, leftovers: a rotate job whose workers were killed more often than `maxStalledCount`
 * allows is failed by BullMQ ("job stalled more than allowable limit") without running our code,
 * so it used to send no alert and sit at its last step until someone rotated by hand. Now the
 * worker that sees it fail alerts, and the next scan resumes the rotation.
 */
describe('a rotate job that stalls past maxStalledCount', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [{ name: 'unlucky', held: true, ageDays: 30, daysValid: 365 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    rt = fx.runtime(); // the parent enqueues and inspects only
    await fx.adopt('unlucky', 'sa/unlucky');
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('alerts, and the next scan resumes and finishes the rotation', async () => {
    const rotationId = ulid(Date.now());
    await enqueueRotation(rt.queues.rotate, { secretName: 'sa/unlucky', reason: 'stall test', requestedBy: 'test', rotationId });
    const job = () => rt.queues.rotate.getJob(`rotate_${rotationId}`);

    // Three workers in a row take the job, save one step, and die (maxStalledCount is 2).
    for (let kill = 1; kill <= 3; kill++) {
      const doomed = new LineChild('rotation-child.ts', { ...fx.env, CRASH_AT: 'any' });
      await doomed.waitForLine(/^CRASH-POINT /);
      await doomed.kill();
    }
    const survivor = new LineChild('rotation-child.ts', { ...fx.env });
    try {
      await survivor.waitForLine(/^READY$/);
      await vi.waitFor(async () => expect(await (await job())!.getState()).toBe('failed'), { timeout: 20_000, interval: 100 });
      expect((await job())!.failedReason).toMatch(/stalled more than allowable limit/);
      const stuckStep = (await rt.rotations.get(rotationId))!.step;
      expect(['staged', 'creating', 'created', 'verified']).toContain(stuckStep);

      // The alert: one "stuck" notice naming the stall, and an audit entry.
      await vi.waitFor(async () => {
        const notices = (await rt.queues.notify.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed'])).filter((j) => j.data.rotationId === rotationId && j.name === 'rotation-failed');
        expect(notices.map((n) => n.data.error)).toEqual([expect.stringMatching(/interrupted more times than allowed/)]);
        expect(notices[0]!.data.impact).toMatch(/the next scan .* resumes it/);
      }, { timeout: 10_000, interval: 100 });
      expect((await rt.audit.read({ limit: 50, rotationId })).some((e) => e.action === 'stalled' && e.outcome === 'failed')).toBe(true);

      // The next scan (the credential is not due: only the unfinished rotation brings it in) resumes it.
      await rt.queues.scan.add('scan', { trigger: 'manual' });
      await vi.waitFor(async () => expect((await rt.rotations.get(rotationId))!.step).toBe('done'), { timeout: 20_000, interval: 100 });
      const current = versionWithStage((await rt.store.get('sa/unlucky'))!.versions, 'current')!;
      expect(current.metadata.rotationId).toBe(rotationId);
      await rt.identities.asSecret(current.value, 'check').proveSigning();
    } finally {
      survivor.process.kill('SIGTERM');
      await survivor.exited;
    }
  }, 60_000);
});
