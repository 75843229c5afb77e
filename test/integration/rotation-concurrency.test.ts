import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { drain, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue "Crash-safe rotation engine", done-when: two workers running side by side never rotate
 * the same credential twice, however many triggers arrive at once (scans of both daemons, queued
 * requests, and hand-made dashboard jobs that bypass the queue's deduplication).
 */
describe('two workers side by side', () => {
  let fx: Fixture;
  let a: Runtime;
  let b: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [{ name: 'twin', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      // A little latency so the two workers really overlap inside Dfns calls.
      knobs: { latencyMs: 5 },
    });
    a = fx.runtime({ actor: 'daemon-a' });
    b = fx.runtime({ actor: 'daemon-b' });
    await fx.adopt('twin', 'sa/twin');
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('creates exactly one replacement', async () => {
    const before = (await a.store.get('sa/twin'))!;
    // Everything arrives before any worker runs: queued requests from both daemons, both daemons'
    // scans, and three hand-made jobs (as from the dashboard) that no deduplication holds back.
    const requests = [a, b, a, b].map((rt) =>
      enqueueRotation(rt.queues.rotate, { secretName: 'sa/twin', reason: 'concurrent', requestedBy: rt === a ? 'a' : 'b', rotationId: ulid(Date.now()), requestedAt: fx.sim.clock.now() }),
    );
    const queued = await Promise.all(requests);
    expect(queued.filter(Boolean)).toHaveLength(1);
    const raw = await Promise.all([a, b, a].map((rt) => rt.queues.rotate.add('rotate', { credential: 'sa/twin', reason: 'clicked twice in the dashboard' })));
    await Promise.all([a.queues.scan.add('scan', { trigger: 'manual' }), b.queues.scan.add('scan', { trigger: 'manual' })]);

    const events = new QueueEvents('rotate', { connection: a.redis, prefix: fx.config.redis.prefix });
    await events.waitUntilReady();
    a.startWorkers({ concurrency: { rotate: 3 } });
    b.startWorkers({ concurrency: { rotate: 3 } });
    await drain(a.queues.scan);
    const jobs = await a.queues.rotate.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 30_000) as Promise<RotateResult>));
    await events.close();
    await drain(a.queues.retire);
    await drain(a.queues.retire);

    expect(raw).toHaveLength(3);
    const byStep = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.step]: (acc[r.step] ?? 0) + 1 }), {});
    // One job did the rotation; every other one joined it or found it already done.
    expect(byStep['retire-scheduled']).toBe(1);
    expect((byStep.joined ?? 0) + (byStep.skipped ?? 0)).toBe(results.length - 1);

    const operator = (await a.identities.operator())!;
    const replacements = (await operator.listServiceAccounts()).filter((s) => s.name.startsWith('twin-g'));
    expect(replacements.map((s) => s.name)).toEqual(['twin-g2']);
    const after = (await a.store.get('sa/twin'))!;
    expect(after.versions.find((v) => v.stages.includes('current'))!.value.credentialId).toBe(replacements[0]!.id);
    expect(after.revision).toBeGreaterThan(before.revision);
    const records = await a.rotations.recent(20);
    expect(records.filter((r) => r.step === 'done')).toHaveLength(1);
    expect(records.filter((r) => r.step !== 'done')).toEqual([]);
  });
});
