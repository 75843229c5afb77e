import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DfnsApiClient } from '@dfns/sdk';
import { AsymmetricKeySigner } from '@dfns/sdk-keysigner';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { sdkClientFor } from '../helpers/aws-server.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 10, done-when, with the aws-secrets-manager store: a rotated service account read as a
 * consumer reads it (the official AWS SDK: no stage is AWSCURRENT; then the official @dfns/sdk
 * with what it read), and two daemons on one Redis and one Secrets Manager rotating ten
 * credentials while Secrets Manager throttles and refuses label moves as if another writer had moved them.
 */
const FLEET = Array.from({ length: 10 }, (_, i) => `fleet-${i}`);

interface Credential {
  serviceAccountId: string;
  accessToken: string;
  privateKey: string;
  credId: string;
  orgId: string;
  baseUrl: string;
}

describe('rotation with the aws-secrets-manager store', () => {
  let aws: RunningAwsStore;
  let fx: Fixture;
  let a: Runtime;
  let b: Runtime;
  let operator: DfnsPort;
  let sm: SecretsManagerClient;
  const redis = newRedis();

  beforeAll(async () => {
    aws = await startAwsStore();
    sm = sdkClientFor(aws.aws);
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        ...FLEET.map((name) => ({ name, held: true, ageDays: 355, daysValid: 365, permission: 'Reader' })),
      ],
      // A real overlap: the old credential stays AWSPREVIOUS until the test moves the clock past it.
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '1', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0', ...aws.env },
      knobs: { latencyMs: 2 },
    });
    a = fx.runtime({ actor: 'daemon-a', store: aws.openWithSleep(fx.sleep) });
    b = fx.runtime({ actor: 'daemon-b', store: aws.openWithSleep(fx.sleep) });
    await fx.adopt('pay', 'sa/pay');
    for (const name of FLEET) await fx.adopt(name, `fleet/${name}`);
    operator = (await a.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    sm.destroy();
    await aws.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  /** `aws secretsmanager get-secret-value --secret-id <prefix><name> [--version-stage S]`, no dfns-rotator code. */
  async function consumerRead(name: string, stage?: string): Promise<{ versionId: string; credential: Credential } | null> {
    try {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: `${aws.settings.namePrefix}${name}`, ...(stage ? { VersionStage: stage } : {}) }));
      return { versionId: got.VersionId!, credential: JSON.parse(got.SecretString!) as Credential };
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return null;
      throw err;
    }
  }

  it('rotates a service account so that a consumer reading AWSCURRENT gets the new token and AWSPREVIOUS the old one', async () => {
    const before = (await consumerRead('sa/pay'))!;
    a.startWorkers();
    const result = await runJob<RotateResult>(a.queues.rotate, 'rotate', { credential: 'sa/pay', reason: 'aws consumer test', requestedBy: 'test' });
    expect(result.step).toBe('retire-scheduled');

    const now = (await consumerRead('sa/pay'))!;
    const c = now.credential;
    const replacement = (await operator.listServiceAccounts()).find((s) => s.name === 'pay-g2')!;
    expect(c.serviceAccountId).toBe(replacement.id);
    expect(c.accessToken).not.toBe(before.credential.accessToken);
    const previous = (await consumerRead('sa/pay', 'AWSPREVIOUS'))!;
    expect(previous.versionId).toBe(before.versionId);
    expect(previous.credential.accessToken).toBe(before.credential.accessToken);
    expect(await consumerRead('sa/pay', 'AWSPENDING')).toBeNull();

    // The official Dfns SDK, configured only from what Secrets Manager returned, works as the new service account.
    const dfns = new DfnsApiClient({ baseUrl: c.baseUrl, orgId: c.orgId, authToken: c.accessToken, signer: new AsymmetricKeySigner({ credId: c.credId, privateKey: c.privateKey }) });
    const listed = await dfns.auth.listServiceAccounts();
    expect(listed.items.map((i) => i.userInfo.userId)).toContain(replacement.id);

    // After the overlap the old credential is retired and loses its AWSPREVIOUS label; AWSCURRENT stays.
    fx.sim.clock.advance(2 * 3_600_000);
    try {
      for (const job of await a.queues.retire.getJobs(['delayed'])) await job.promote();
      await drain(a.queues.retire);
      await drain(a.queues.retire);
    } finally {
      await a.close();
      a = fx.runtime({ actor: 'daemon-a', store: aws.openWithSleep(fx.sleep) });
    }
    expect(await consumerRead('sa/pay', 'AWSPREVIOUS')).toBeNull();
    expect((await consumerRead('sa/pay'))!.versionId).toBe(now.versionId);
  });

  it('lets two daemons on one Redis and one Secrets Manager rotate ten credentials once each, retrying throttling and label conflicts without overwriting', async () => {
    const before = new Map<string, { versionId: string; id: string }>();
    for (const name of FLEET) {
      const read = (await consumerRead(`fleet/${name}`))!;
      before.set(name, { versionId: read.versionId, id: read.credential.serviceAccountId });
    }
    aws.aws.knobs.throttleEvery = 7;
    aws.aws.knobs.conflictEvery = 9; // as if another writer had just moved a label
    const throttledBefore = aws.aws.stats.throttled;
    const conflictsBefore = aws.aws.stats.conflicts;

    // Both daemons ask for every rotation; the queue keeps one per credential.
    for (const rt of [a, b]) {
      for (const name of FLEET) await enqueueRotation(rt.queues.rotate, { secretName: `fleet/${name}`, reason: 'fleet', requestedBy: rt === a ? 'a' : 'b', rotationId: ulid(Date.now()), requestedAt: fx.sim.clock.now() });
    }
    const events = new QueueEvents('rotate', { connection: a.redis, prefix: fx.config.redis.prefix });
    await events.waitUntilReady();
    a.startWorkers({ concurrency: { rotate: 4 } });
    b.startWorkers({ concurrency: { rotate: 4 } });
    const jobs = await a.queues.rotate.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
    const fleetJobs = jobs.filter((j) => String(j.data.credential).startsWith('fleet/'));
    const results = await Promise.all(fleetJobs.map((j) => j.waitUntilFinished(events, 60_000) as Promise<RotateResult>));
    await events.close();
    aws.aws.knobs.throttleEvery = 0;
    aws.aws.knobs.conflictEvery = 0;

    expect(results.filter((r) => r.step === 'retire-scheduled')).toHaveLength(FLEET.length);
    expect(aws.aws.stats.throttled - throttledBefore).toBeGreaterThan(10);
    expect(aws.aws.stats.conflicts - conflictsBefore).toBeGreaterThan(3);

    const accounts = await operator.listServiceAccounts();
    for (const name of FLEET) {
      const replacements = accounts.filter((s) => s.name.startsWith(`${name}-g`));
      expect(replacements.map((s) => s.name), name).toEqual([`${name}-g2`]);
      const record = (await a.store.get(`fleet/${name}`))!;
      expect(record.versions.map((v) => [v.versionId, v.stages]), name).toEqual([[1, ['previous']], [2, ['current']]]);
      // No lost write: AWSCURRENT is the one replacement, AWSPREVIOUS exactly the credential it replaced.
      const current = (await consumerRead(`fleet/${name}`))!;
      expect(current.credential.serviceAccountId, name).toBe(replacements[0]!.id);
      expect(current.credential.accessToken).toBe(versionWithStage(record.versions, 'current')!.value.accessToken);
      const previous = (await consumerRead(`fleet/${name}`, 'AWSPREVIOUS'))!;
      expect(previous.versionId, name).toBe(before.get(name)!.versionId);
      expect(previous.credential.serviceAccountId).toBe(before.get(name)!.id);
      expect(await consumerRead(`fleet/${name}`, 'AWSPENDING'), name).toBeNull();
    }
    const fleetRecords = (await a.rotations.recent(50)).filter((r) => r.secretName.startsWith('fleet/'));
    expect(fleetRecords.map((r) => r.secretName).sort()).toEqual(FLEET.map((n) => `fleet/${n}`).sort());
    expect(fleetRecords.every((r) => r.step === 'retire-scheduled')).toBe(true);
  });
});
