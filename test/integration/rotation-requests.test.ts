import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../src/dfns/transport.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { ScanSummary } from '../../src/model.js';
import { generateKeyPair } from '../../src/dfns/keys.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 12: a full rotation (rotate + retire) makes the 12 requests the protocol needs (create 3,
 * verify 1 read + 2 for the key proof, deactivate 3, archive 3), not 15: the old permission comes
 * from the scan's listing, the new one from the create answer, and deactivate is sent without
 * asking first whether the credential is active. Verify still proves token, key and permissions.
 */
describe('requests per rotation', () => {
  let fx: Fixture;
  let rt: Runtime;
  const requests: RequestEvent[] = [];
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [{ name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' }],
      pats: [{ name: 'ci', owner: OPERATOR, held: true, ageDays: 25, daysValid: 30 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    rt = fx.runtime({ onDfnsRequest: (e) => requests.push(e) });
    await fx.adopt('pay', 'sa/pay');
    await fx.adopt('ci', 'pat/ci', 'pat');
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('rotates a service account and a PAT queued by a scan with the 12 requests of the protocol each, and both work', async () => {
    const rotate = rt.workers().find((w) => w.name === 'rotate')!;
    await rotate.pause();
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    expect(summary.rotationsQueued).toBe(2);
    const fromScan = requests.length;
    rotate.resume();
    await drain(rt.queues.rotate);
    await drain(rt.queues.retire);
    await drain(rt.queues.retire); // the archive phase is queued by the deactivate one

    const rotation = requests.slice(fromScan);
    expect(rotation.filter((r) => r.status !== 200)).toEqual([]);
    const byOperation: Record<string, number> = {};
    for (const r of rotation) byOperation[r.operation] = (byOperation[r.operation] ?? 0) + 1;
    // The check that the replacement's name is not held by a credential that is not ours (issue 8)
    // uses the listing of the scan that queued the rotation: no listing of its own.
    expect(byOperation).toEqual({
      createServiceAccount: 3,
      createPersonalAccessToken: 3,
      listPersonalAccessTokens: 2, // verify: each new token is accepted
      proveSigning: 4, // verify: each new key signs
      deactivateServiceAccount: 3,
      deactivatePersonalAccessToken: 3,
      archiveServiceAccount: 3,
      archivePersonalAccessToken: 3,
    });
    expect(rotation).toHaveLength(24);
    // None of the three reads the answers already tell: the old permission (from the scan), the
    // new one (from the create answer), whether the old one is active before deactivating it.
    expect(rotation.filter((r) => r.operation === 'getServiceAccount' || r.operation === 'getPersonalAccessToken')).toEqual([]);

    for (const [secret, oldName] of [['sa/pay', 'pay'], ['pat/ci', 'ci']] as const) {
      const current = versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
      expect(current.value.name).toBe(`${oldName}-g2`);
      const port = rt.identities.asSecret(current.value, 'check');
      await port.proveSigning();
    }
    const operator = (await rt.identities.operator())!;
    const sas = await operator.listServiceAccounts();
    expect(sas.find((s) => s.name === 'pay')).toBeUndefined(); // archived
    expect(sas.find((s) => s.name === 'pay-g2')!.permissionAssignments!.map((p) => p.permissionName)).toEqual(['Reader']);
  });
});

describe('the name check from the scan', () => {
  let fx: Fixture;
  let rt: Runtime;
  const requests: RequestEvent[] = [];
  const redis = newRedis();
  let foreignId = '';

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [{ name: 'bank', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '1' },
    });
    rt = fx.runtime({ onDfnsRequest: (e) => requests.push(e) });
    await fx.adopt('bank', 'sa/bank');
    // Another service's account holds the first replacement name before the scan lists.
    foreignId = fx.sim.addServiceAccount({ name: 'bank-g2', publicKeyPem: (await generateKeyPair('ecdsa-p256')).publicKeyPem });
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('takes the next name when the scan listed the first one as held, without touching the holder', async () => {
    const rotate = rt.workers().find((w) => w.name === 'rotate')!;
    await rotate.pause();
    await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    const fromScan = requests.length;
    rotate.resume();
    await drain(rt.queues.rotate);
    const rotation = requests.slice(fromScan).map((r) => r.operation);

    const current = versionWithStage((await rt.store.get('sa/bank'))!.versions, 'current')!;
    expect(current.value.name).toBe('bank-g2-2');
    const operator = (await rt.identities.operator())!;
    const holder = (await operator.listServiceAccounts()).find((s) => s.id === foreignId)!;
    expect(holder).toMatchObject({ name: 'bank-g2', isActive: true });
    const record = (await rt.rotations.recent(5)).find((r) => r.secretName === 'sa/bank')!;
    expect(record.orphans).toEqual([]);
    // The second attempt asks Dfns (the scan's listing only speaks for the first name).
    expect(rotation.filter((op) => op === 'listServiceAccounts')).toHaveLength(1);
    expect(rotation.filter((op) => op === 'createServiceAccount')).toHaveLength(3);
  });
});
