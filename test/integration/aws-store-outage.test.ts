import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { Notification } from '../../src/notify/types.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Secrets Manager throttling the write of a token Dfns just showed, for longer than the store's and
 * updateSecret's retries: the rotation holds the token in memory, alerts, and retries the write
 * (as for a full disk with the file store), so no created credential is lost or orphaned.
 */
describe('aws-secrets-manager store throttling the new token write', () => {
  let aws: RunningAwsStore;
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();
  const sent: Notification[] = [];
  const creates: string[] = [];
  let onCreateAnswered: (() => void) | undefined;

  beforeAll(async () => {
    aws = await startAwsStore();
    fx = await startFixture({
      serviceAccounts: [{ name: 'held', held: true, ageDays: 300, daysValid: 365 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0', ...aws.env },
    });
    rt = fx.runtime({
      store: aws.openWithSleep(fx.sleep),
      notifier: { description: 'test', send: async (n) => void sent.push(n) },
      rotationHooks: { afterCreateAnswered: () => onCreateAnswered?.() },
    });
    await fx.adopt('held', 'sa/held');
    fx.sim.onArrival((a) => {
      if (a.operation === 'CreateServiceAccount') creates.push(a.operation);
    });
    rt.startWorkers();
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await aws.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('holds the token, retries the write until Secrets Manager takes it, and tells people', async () => {
    // 9 attempts per call (the store's retries) × 8 updateSecret attempts = 72 throttles per write: the first write fails whole.
    onCreateAnswered = () => aws.aws.injectFault('throttle', 100, 'PutSecretValue');
    const throttled = aws.aws.stats.throttled;
    try {
      const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/held', reason: 'aws throttles', requestedBy: 'test' });
      expect(result.step).toBe('retire-scheduled');
      expect(aws.aws.stats.throttled - throttled).toBe(100);
      expect(creates).toEqual(['CreateServiceAccount']);
      expect((await rt.rotations.get(result.rotationId))!.orphans).toEqual([]);
      const now = versionWithStage((await rt.store.get('sa/held'))!.versions, 'current')!;
      expect(now.value.credentialId).toBe(result.newCredentialId);
      await rt.identities.asSecret(now.value, 'check').proveSigning();
      await drain(rt.queues.notify);
      const attention = sent.filter((n) => n.type === 'rotation-attention');
      expect(attention).toHaveLength(1);
      expect(attention[0]).toMatchObject({ rotationId: result.rotationId, problem: expect.stringContaining('SECRET_STORE_UNAVAILABLE') });
      expect(JSON.stringify(sent)).not.toContain(now.value.accessToken!);
    } finally {
      onCreateAnswered = undefined;
      aws.aws.clearFaults();
    }
  });
});
