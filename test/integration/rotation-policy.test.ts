import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 14, "resolve the policy once, carry it": a rotation is planned with the policy of the
 * daemon that planned it, and a daemon that resumes it (after a crash, with another config, or
 * after the config changed) finishes it with that same policy, not its own.
 */
describe('the policy a rotation was planned with', () => {
  let fx: Fixture;
  let planner: Runtime;
  let resumer: Runtime;
  const redis = newRedis();
  let crashAt: string | undefined;

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'carried', held: true, ageDays: 300, daysValid: 365 },
        { name: 'fresh', held: true, ageDays: 300, daysValid: 365 },
      ],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      knobs: { tokensMayManageCredentials: true },
    });
    await fx.adopt('carried', 'sa/carried');
    await fx.adopt('fresh', 'sa/fresh');
    // Same Redis prefix, same store: only what a refused rekey falls back to differs.
    planner = fx.runtime({
      config: fx.configWith({ DFNS_ROTATOR_REKEY_FALLBACK: 'replace', DFNS_ROTATOR_KEY_ALGORITHM: 'ecdsa-p256' }),
      rotationHooks: {
        afterStep: (r: RotationRecord) => {
          if (crashAt === r.step) {
            crashAt = undefined;
            throw new Error(`simulated crash at ${r.step}`);
          }
        },
      },
    });
    resumer = fx.runtime({ config: fx.configWith({ DFNS_ROTATOR_REKEY_FALLBACK: 'notify', DFNS_ROTATOR_KEY_ALGORITHM: 'ed25519' }) });
  }, 60_000);

  afterAll(async () => {
    fx.sim.setKnobs({ tokensMayManageCredentials: true });
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function current(secret: string) {
    return versionWithStage((await resumer.store.get(secret))!.versions, 'current')!;
  }

  it('is saved on the record and used by the daemon that resumes it, whatever that daemon is configured with', async () => {
    planner.startWorkers();
    crashAt = 'staged';
    const rotationId = ulid(Date.now());
    await expect(runJob(planner.queues.rotate, 'rotate', { credential: 'sa/carried', reason: 'dies after staging', requestedBy: 'test', rotationId, strategy: 'rekey' }, { attempts: 1 })).rejects.toThrow(/simulated crash/);
    expect(await planner.rotations.get(rotationId)).toMatchObject({ step: 'staged', strategy: 'rekey', policy: { rekeyFallback: 'replace', keyAlgorithm: 'ecdsa-p256' } });
    await planner.close();

    // Dfns now refuses the rekey: the planner's policy says fall back to replace, the resumer's says stop.
    fx.sim.setKnobs({ tokensMayManageCredentials: false });
    resumer.startWorkers();
    const resumed = await runJob<RotateResult>(resumer.queues.rotate, 'rotate', { credential: 'sa/carried', reason: 'resume it', requestedBy: 'test' });
    expect(resumed).toMatchObject({ rotationId, step: 'retire-scheduled' });
    const after = await current('sa/carried');
    expect(after.value.name).toBe('carried-g2');
    expect(createPrivateKey(after.value.privateKeyPem).asymmetricKeyType).toBe('ec');
    const story = (await resumer.audit.read({ limit: 50, rotationId })).map((e) => e.action);
    expect(story).toContain('switched-to-replace');

    // The resuming daemon's own policy is another: a rekey it plans stops at the refusal.
    const fresh = await runJob<RotateResult>(resumer.queues.rotate, 'rotate', { credential: 'sa/fresh', reason: 'planned here', requestedBy: 'test', strategy: 'rekey' });
    expect(fresh.step).toBe('rolled-back');
    expect((await resumer.rotations.get(fresh.rotationId))!.policy).toEqual({ strategy: 'replace', rekeyFallback: 'notify', keyAlgorithm: 'ed25519' });
  });
});
