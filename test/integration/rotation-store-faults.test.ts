import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { Notification } from '../../src/notify/types.js';
import { openConfiguredStore } from '../../src/secrets/index.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';
import { faultyStore, type StoreFault } from '../helpers/store-faults.js';

/**
 * Issue 8, leftovers: a store that turns unwritable must never make a rotation create credentials
 * whose tokens cannot be kept. Before each create an attempt marker is written into the pending
 * version, so an unwritable store stops the rotation before Dfns is called; a store that refuses
 * the token right after Dfns showed it gets the token held in memory and the write retried (with
 * an alert), not a lost token.
 */
describe('a secret store that turns full or read-only', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();
  const sent: Notification[] = [];
  let fault: StoreFault | null = null;
  let refused = 0;
  /** Writes refused before the store has room again. */
  let refuseTimes = Number.POSITIVE_INFINITY;
  let afterStep: ((r: RotationRecord) => void) | undefined;
  let afterCreateAnswered: ((r: RotationRecord) => void) | undefined;
  const creates: string[] = [];

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'full-before', held: true, ageDays: 300, daysValid: 365 },
        { name: 'full-after', held: true, ageDays: 300, daysValid: 365 },
        { name: 'full-long', held: true, ageDays: 300, daysValid: 365 },
      ],
      pats: [{ name: 'ro-after', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    const inner = openConfiguredStore(fx.config.store, { logger: fx.logger, clock: fx.sim.clock });
    rt = fx.runtime({
      store: faultyStore(inner, () => (fault && refused < refuseTimes ? fault : null), () => void (refused += 1)),
      notifier: { description: 'test', send: async (n) => void sent.push(n) },
      rotationHooks: { afterStep: (r) => afterStep?.(r), afterCreateAnswered: (r) => afterCreateAnswered?.(r) },
    });
    await fx.adopt('full-before', 'sa/full-before');
    await fx.adopt('full-after', 'sa/full-after');
    await fx.adopt('full-long', 'sa/full-long');
    await fx.adopt('ro-after', 'pat/ro-after', 'pat');
    fx.sim.onArrival((a) => {
      if (a.operation === 'CreateServiceAccount' || a.operation === 'CreatePat') creates.push(a.operation);
    });
    rt.startWorkers();
    operator = (await rt.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function current(secret: string) {
    return versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
  }

  it('full after staging: the rotation stops before calling Dfns, alerts, and resumes once the store has room', async () => {
    const before = await current('sa/full-before');
    creates.length = 0;
    afterStep = (r) => {
      if (r.secretName === 'sa/full-before' && r.step === 'staged') fault = 'ENOSPC';
    };
    const failed = await runJob(rt.queues.rotate, 'rotate', { credential: 'sa/full-before', reason: 'store full', requestedBy: 'test', rotationId: '01JEXYZ0000000000000000000' }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } }).catch((e: Error) => e);
    afterStep = undefined;
    expect((failed as Error).message).toMatch(/secret store cannot be written \(ENOSPC\): the rotation stops before calling Dfns/);
    // Three job attempts, and not one create sent.
    expect(creates).toEqual([]);
    const record = (await rt.rotations.get('01JEXYZ0000000000000000000'))!;
    expect(record.step).toBe('staged');
    expect((await current('sa/full-before')).versionId).toBe(before.versionId);
    expect((await operator.getServiceAccount(before.value.credentialId!)).isActive).toBe(true);
    await drain(rt.queues.notify);
    expect(sent.filter((n) => n.type === 'rotation-failed' && n.rotationId === record.rotationId)).toHaveLength(1);

    fault = null;
    const resumed = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/full-before', reason: 'room again', requestedBy: 'test' });
    expect(resumed).toMatchObject({ rotationId: record.rotationId, step: 'retire-scheduled' });
    expect(creates).toEqual(['CreateServiceAccount']);
    const pending = (await rt.store.get('sa/full-before'))!.versions.find((v) => v.metadata.rotationId === record.rotationId)!;
    expect(pending.metadata.createAttempt).toMatchObject({ attempt: 1, name: 'full-before-g2' });
  });

  it.each([
    { secret: 'sa/full-after', fault: 'ENOSPC' as const, kind: 'CreateServiceAccount' },
    { secret: 'pat/ro-after', fault: 'EROFS' as const, kind: 'CreatePat' },
  ])('$fault on the token write ($secret): the token is held, the write retried, people told, and nothing is lost', async ({ secret, fault: f, kind }) => {
    creates.length = 0;
    refused = 0;
    const sentBefore = sent.length;
    afterCreateAnswered = (r) => {
      if (r.secretName === secret) fault = f;
    };
    // The disk frees up after three refused writes (the simulator clock moves with each wait).
    refuseTimes = 3;
    try {
      const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: secret, reason: 'store refuses the token', requestedBy: 'test' });
      expect(result.step).toBe('retire-scheduled');
      expect(refused).toBeGreaterThanOrEqual(3);
      // One create: the held token reached the store, no orphan, no second credential.
      expect(creates).toEqual([kind]);
      const record = (await rt.rotations.get(result.rotationId))!;
      expect(record.orphans).toEqual([]);
      const now = await current(secret);
      expect(now.value.credentialId).toBe(result.newCredentialId);
      await rt.identities.asSecret(now.value, 'check').proveSigning();
      await drain(rt.queues.notify);
      const attention = sent.slice(sentBefore).filter((n) => n.type === 'rotation-attention');
      expect(attention).toHaveLength(1);
      expect(attention[0]).toMatchObject({ rotationId: result.rotationId, problem: expect.stringContaining(`(${f}:`) });
      expect(JSON.stringify(attention)).not.toContain(now.value.accessToken!);
    } finally {
      afterCreateAnswered = undefined;
      fault = null;
      refuseTimes = Number.POSITIVE_INFINITY;
    }
  });

  it('a store that stays full for longer than the token can be held: the next attempt removes that credential (proven ours by its key) and creates another', async () => {
    creates.length = 0;
    const sentBefore = sent.length;
    let armed = true;
    afterCreateAnswered = (r) => {
      if (r.secretName === 'sa/full-long' && armed) {
        armed = false;
        fault = 'ENOSPC';
      }
    };
    // The disk frees up only once the token was given up and the resumed rotation found its orphan.
    afterStep = (r) => {
      if (r.secretName === 'sa/full-long' && r.step === 'staged' && r.orphans.length > 0) fault = null;
    };
    try {
      const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/full-long', reason: 'store full for an hour', requestedBy: 'test' }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
      await drain(rt.queues.notify);
      expect(result.step).toBe('retire-scheduled');
      expect(creates).toEqual(['CreateServiceAccount', 'CreateServiceAccount']);
      const record = (await rt.rotations.get(result.rotationId))!;
      expect(record.orphans).toHaveLength(1);
      expect(record.orphans[0]!.cleaned).toBe(true);
      await expect(operator.getServiceAccount(record.orphans[0]!.credentialId)).rejects.toMatchObject({ code: 'DFNS_NOT_FOUND' });
      expect((await current('sa/full-long')).value.credentialId).toBe(result.newCredentialId);
      expect(sent.slice(sentBefore).filter((n) => n.type === 'rotation-attention' && n.rotationId === result.rotationId)).toHaveLength(1);
      const orphanFound = (await rt.audit.read({ limit: 50, rotationId: result.rotationId })).find((e) => e.action === 'orphan-found');
      expect(orphanFound?.detail).toContain('its public key is the one staged for this create');
    } finally {
      afterCreateAnswered = undefined;
      afterStep = undefined;
      fault = null;
    }
  });
});
