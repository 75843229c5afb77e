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
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 10, done-when, with the Vault store: a rotated service account read as a consumer reads
 * it (plain HTTP with X-Vault-Token, then the official @dfns/sdk with what it read), and two
 * daemons on one Redis and one Vault rotating ten credentials while Vault answers CAS conflicts.
 */
const FLEET = Array.from({ length: 10 }, (_, i) => `fleet-${i}`);

interface VaultRead {
  data: { data: Record<string, string>; metadata: { version: number } };
}

describe('rotation with the Vault store', () => {
  let fx: Fixture;
  let a: Runtime;
  let b: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      store: 'vault',
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        { name: 'flaky', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        ...FLEET.map((name) => ({ name, held: true, ageDays: 355, daysValid: 365, permission: 'Reader' })),
      ],
      // A real overlap: the old credential stays previous until the test moves the clock past it.
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '1', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      knobs: { latencyMs: 2 },
    });
    a = fx.runtime({ actor: 'daemon-a' });
    b = fx.runtime({ actor: 'daemon-b' });
    await fx.adopt('pay', 'sa/pay');
    await fx.adopt('flaky', 'sa/flaky');
    for (const name of FLEET) await fx.adopt(name, `fleet/${name}`);
    operator = (await a.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  /** What `vault kv get -format=json secret/dfns-rotator/<name>` does. */
  async function consumerRead(name: string, version?: number): Promise<VaultRead> {
    const vault = fx.store.vault!;
    const res = await fetch(`${vault.url}/v1/secret/data/dfns-rotator/${name}${version ? `?version=${version}` : ''}`, { headers: { 'X-Vault-Token': vault.rootToken } });
    expect(res.status).toBe(200);
    return (await res.json()) as VaultRead;
  }

  it('rotates a service account so that a consumer reading Vault gets the new token as current and the old one as previous', async () => {
    const before = await consumerRead('sa/pay');
    const oldToken = before.data.data.accessToken!;
    a.startWorkers();
    const result = await runJob<RotateResult>(a.queues.rotate, 'rotate', { credential: 'sa/pay', reason: 'vault consumer test', requestedBy: 'test' });
    expect(result.step).toBe('retire-scheduled');

    const now = await consumerRead('sa/pay');
    const c = now.data.data;
    expect(now.data.metadata.version).toBe(before.data.metadata.version + 1);
    expect(c.accessToken).not.toBe(oldToken);
    const replacement = (await operator.listServiceAccounts()).find((s) => s.name === 'pay-g2')!;
    expect(c.serviceAccountId).toBe(replacement.id);
    expect((await consumerRead('sa/pay', now.data.metadata.version - 1)).data.data.accessToken).toBe(oldToken);

    // The official SDK, configured only from what Vault returned, works as the new service account.
    const dfns = new DfnsApiClient({ baseUrl: c.baseUrl!, orgId: c.orgId!, authToken: c.accessToken!, signer: new AsymmetricKeySigner({ credId: c.credId!, privateKey: c.privateKey! }) });
    const listed = await dfns.auth.listServiceAccounts();
    expect(listed.items.map((i) => i.userInfo.userId)).toContain(replacement.id);

    // After the overlap the old credential is retired, and its key leaves Vault with it.
    fx.sim.clock.advance(2 * 3_600_000);
    try {
      for (const job of await a.queues.retire.getJobs(['delayed'])) await job.promote();
      await drain(a.queues.retire);
      await drain(a.queues.retire);
    } finally {
      await a.close();
      a = fx.runtime({ actor: 'daemon-a' });
    }
    const retired = await fetch(`${fx.store.vault!.url}/v1/secret/data/dfns-rotator/sa/pay?version=${now.data.metadata.version - 1}`, { headers: { 'X-Vault-Token': fx.store.vault!.rootToken } });
    expect(retired.status).toBe(404);
    expect(((await retired.json()) as { data: { metadata: { destroyed: boolean } } }).data.metadata.destroyed).toBe(true);
    expect((await consumerRead('sa/pay')).data.data.accessToken).toBe(c.accessToken);
  });

  it('lets two daemons on one Redis and one Vault rotate ten credentials once each, retrying CAS conflicts without overwriting', async () => {
    const vault = fx.store.vault!;
    const before = new Map<string, string>();
    for (const name of FLEET) before.set(name, versionWithStage((await a.store.get(`fleet/${name}`))!.versions, 'current')!.value.credentialId!);
    vault.knobs.latencyMs = 2;
    vault.conflictNext(6);
    const conflictsBefore = vault.requests.filter((r) => r.status === 400).length;

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

    expect(results.filter((r) => r.step === 'retire-scheduled')).toHaveLength(FLEET.length);
    // Vault did answer conflicts, and they were retried.
    expect(vault.requests.filter((r) => r.status === 400).length - conflictsBefore).toBeGreaterThanOrEqual(6);

    const accounts = await operator.listServiceAccounts();
    for (const name of FLEET) {
      const replacements = accounts.filter((s) => s.name.startsWith(`${name}-g`));
      expect(replacements.map((s) => s.name), name).toEqual([`${name}-g2`]);
      const record = (await a.store.get(`fleet/${name}`))!;
      const current = versionWithStage(record.versions, 'current')!;
      expect(current.value.credentialId, name).toBe(replacements[0]!.id);
      expect(versionWithStage(record.versions, 'pending'), name).toBeUndefined();
      // No lost write: the consumer path carries exactly the old and the new credential, in order.
      const latest = await consumerRead(`fleet/${name}`);
      expect(latest.data.data.serviceAccountId).toBe(current.value.credentialId);
      expect(latest.data.metadata.version).toBe(2);
      expect((await consumerRead(`fleet/${name}`, 1)).data.data.serviceAccountId).toBe(before.get(name));
    }
    const records = await a.rotations.recent(50);
    const fleetRecords = records.filter((r) => r.secretName.startsWith('fleet/'));
    // One rotation per credential, each waiting out its overlap before retiring the old one.
    expect(fleetRecords.map((r) => r.secretName).sort()).toEqual(FLEET.map((n) => `fleet/${n}`).sort());
    expect(fleetRecords.every((r) => r.step === 'retire-scheduled')).toBe(true);
  });

  it('does not finish a promote while consumers cannot see the new credential, and finishes it once they can', async () => {
    const vault = fx.store.vault!;
    const before = await consumerRead('sa/flaky');
    // Every write to the consumer path fails for a while (7 answers: more than one call's retries).
    vault.failNext(7, 503, 'POST secret/data/dfns-rotator/sa/flaky');
    const rotationId = ulid(Date.now());
    await enqueueRotation(a.queues.rotate, { secretName: 'sa/flaky', reason: 'flaky vault', requestedBy: 'test', rotationId, requestedAt: fx.sim.clock.now() }, { backoffDelayMs: 10 });
    const events = new QueueEvents('rotate', { connection: a.redis, prefix: fx.config.redis.prefix });
    await events.waitUntilReady();
    const job = (await a.queues.rotate.getJob(`rotate_${rotationId}`))!;
    const result = (await job.waitUntilFinished(events, 30_000)) as RotateResult;
    await events.close();
    expect(result.step).toBe('retire-scheduled');
    expect((await a.queues.rotate.getJob(`rotate_${rotationId}`))!.attemptsMade).toBeGreaterThan(1);

    const failedPublishes = vault.requests.filter((r) => r.method === 'POST' && r.path === 'secret/data/dfns-rotator/sa/flaky' && r.status === 503);
    expect(failedPublishes).toHaveLength(7);
    const now = await consumerRead('sa/flaky');
    expect(now.data.metadata.version).toBe(before.data.metadata.version + 1);
    const current = versionWithStage((await a.store.get('sa/flaky'))!.versions, 'current')!;
    expect(now.data.data.accessToken).toBe(current.value.accessToken);
    // The step that failed was retried, not redone: one replacement.
    expect((await operator.listServiceAccounts()).filter((s) => s.name.startsWith('flaky-g')).map((s) => s.name)).toEqual(['flaky-g2']);
  });
});
