import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { adoptCredential } from '../../src/jobs/identities/adopt.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { StoredScan } from '../../src/jobs/state/scan-results.js';
import type { ScanSummary } from '../../src/model.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/** Issue 9: one unreadable list item hides nothing else; PAT rekey under both readings of where a PAT's keys live. */

describe('a list answer with an unreadable item', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365 },
        { name: 'spoiled', id: 'us-spoiled-1', held: true, ageDays: 10, daysValid: 365 },
        { name: 'bystander', ageDays: 10, daysValid: 365 },
      ],
      pats: [
        { name: 'ci', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 },
        { name: 'bad-pat', owner: OPERATOR, ageDays: 5, daysValid: 30 },
      ],
    });
    rt = fx.runtime();
    await fx.adopt('pay', 'sa/pay');
    await fx.adopt('ci', 'pat/ci', 'pat');
    // Spoiled after adoption: the stored token of sa/spoiled is managed, its list item unreadable.
    await fx.adopt('spoiled', 'sa/spoiled');
    fx.sim.setKnobs({ unreadableItems: ['spoiled', 'bad-pat'] });
    operator = (await rt.identities.operator())!;
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('is skipped and reported by id, and every other item is read', async () => {
    const sas = await operator.listServiceAccountsDetailed();
    expect(sas.items.map((s) => s.name).sort()).toEqual(['bystander', 'pay']);
    expect(sas.unreadable).toEqual([{ index: expect.any(Number), id: 'us-spoiled-1', problem: 'userInfo.isActive: expected boolean' }]);
    const pats = await operator.listPersonalAccessTokensDetailed();
    expect(pats.items.map((p) => p.name)).toEqual(['ci']);
    expect(pats.unreadable).toEqual([{ index: expect.any(Number), id: expect.stringMatching(/^to-/), problem: 'isActive: expected boolean' }]);
  });

  it('scans every other item and reports the bad ones in the errors, the inventory and the log', async () => {
    const badPatId = (await operator.listPersonalAccessTokensDetailed()).unreadable[0]!.id!;
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    expect(summary.errors).toEqual([
      { identity: `operator ${OPERATOR}`, message: "service account us-spoiled-1 skipped: Dfns' answer for it is unreadable (userInfo.isActive: expected boolean); every other item was scanned" },
      { identity: `operator ${OPERATOR}`, message: `PAT ${badPatId} skipped: Dfns' answer for it is unreadable (isActive: expected boolean); every other item was scanned` },
    ]);
    expect(JSON.stringify(summary.errors)).not.toContain('"yes"'); // the value is never quoted

    const { items } = (await rt.results.load()) as StoredScan;
    const byKey = new Map(items.map((i) => [i.key, i]));
    expect(byKey.get(`sa:${(await operator.listServiceAccounts()).find((s) => s.name === 'pay')!.id}`)).toMatchObject({ state: 'rotate', managed: true });
    expect(items.filter((i) => i.name === 'bystander' || i.name === 'ci')).toHaveLength(2);
    // The managed one keeps its exact expiry from the stored token, but nothing acts on an unreadable record.
    expect(byKey.get('sa:us-spoiled-1')).toMatchObject({ state: 'unknown', strategy: 'notify', expirySource: 'token', secretName: 'sa/spoiled' });
    expect(byKey.get('sa:us-spoiled-1')!.reason).toMatch(/^Dfns' answer for it could not be read \(userInfo\.isActive: expected boolean\); expires in/);
    expect(byKey.get(`pat:${badPatId}`)).toMatchObject({ state: 'unknown', kind: 'pat', managed: false, owner: OPERATOR });
    expect(summary.rotationsQueued).toBe(2); // pay and ci; never the unreadable one
    const queued = (await rt.queues.rotate.getJobs(['waiting', 'active', 'delayed', 'completed', 'prioritized'])).map((j) => (j.data as { credential?: string; secretName?: string }));
    expect(JSON.stringify(queued)).not.toContain('spoiled');

    const warnings = fx.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'Dfns listed an item the worker cannot read; skipped');
    expect(warnings.map((w) => w.id)).toEqual(expect.arrayContaining(['us-spoiled-1', badPatId]));
    await drain(rt.queues.rotate);
  });

  it('makes adopt of the unreadable one refuse with the reason', async () => {
    const held = fx.keys.get('spoiled')!;
    await expect(adoptCredential(
      { store: rt.store, identities: rt.identities, config: fx.config, clock: fx.sim.clock },
      { secretName: 'sa/spoiled-again', kind: 'service-account', credentialId: 'us-spoiled-1', accessToken: fx.sim.seededTokens.get('spoiled')!, privateKeyPem: held.key.privateKeyPem },
    )).rejects.toThrow("Dfns lists us-spoiled-1 but its record cannot be read (userInfo.isActive: expected boolean); nothing was stored");
  });
});

describe.each([
  ['on the PAT itself', 'pat'],
  ["on the PAT's linked user", 'linked-user'],
] as const)('PAT rekey when Dfns registers the new key %s', (_label, patKeysOn) => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      pats: [
        { name: 'ci', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 },
        { name: 'deploy', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 },
      ],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      knobs: { tokensMayManageCredentials: true, patKeysOn, createAnswerOmitsCredId: true },
    });
    rt = fx.runtime();
    await fx.adopt('ci', 'pat/ci', 'pat');
    await fx.adopt('deploy', 'pat/deploy', 'pat');
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function current() {
    return versionWithStage((await rt.store.get('pat/ci'))!.versions, 'current')!;
  }

  it(patKeysOn === 'pat' ? 'rekeys the PAT in place' : 'refuses, before registering anything, with the reason', async () => {
    const before = await current();
    const operatorKeysBefore = (await (await rt.identities.operator())!.listCredentials()).length;
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'pat/ci', reason: 'test', requestedBy: 'test', strategy: 'rekey' });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    const after = await current();
    if (patKeysOn === 'pat') {
      expect(result).toMatchObject({ step: 'retire-scheduled' });
      expect(after.value.credentialId).toBe(before.value.credentialId);
      expect(after.value.credId).not.toBe(before.value.credId);
      const port = rt.identities.asSecret(after.value, 'check');
      expect(await port.signingCredentialIds()).toEqual([after.value.credId]);
      await port.proveSigning();
    } else {
      expect(result).toMatchObject({ step: 'rolled-back' });
      expect((result as { error?: string }).error).toContain("refused by dfns-rotator, not by Dfns: this PAT can sign with 1 Key credential(s) besides its own (rotator-key-1), so Dfns keeps a PAT's keys on its owner's account");
      expect(after.versionId).toBe(before.versionId);
      await rt.identities.asSecret(after.value, 'check').proveSigning();
    }
    // No key was added to the human owner's account either way.
    expect((await (await rt.identities.operator())!.listCredentials()).length).toBe(operatorKeysBefore);
  });

  it('replaces the PAT, finding the real credId though the create answer has none', async () => {
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'pat/deploy', reason: 'test', requestedBy: 'test' });
    expect(result).toMatchObject({ step: 'retire-scheduled' });
    const after = versionWithStage((await rt.store.get('pat/deploy'))!.versions, 'current')!;
    const port = rt.identities.asSecret(after.value, 'check');
    // Under 'linked-user' the new token may also sign with its owner's keys: the credId came from a GET.
    const offered = await port.signingCredentialIds();
    expect(offered.length).toBe(patKeysOn === 'pat' ? 1 : 2);
    expect(after.value.credId).toBe((await (await rt.identities.operator())!.getPersonalAccessToken(after.value.credentialId!)).credId);
    expect(offered).toContain(after.value.credId);
    await port.proveSigning();
  });
});
