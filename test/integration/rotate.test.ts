import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';
import { keysContaining, SECRET_MARKERS } from '../helpers/redis-secrets.js';

/**
 * The rotation engine end to end against the simulator: replace of a service account and of a
 * PAT, rekey, and the failures that must leave the current credential working (verify failure,
 * 403 on create, 202 policy approval), each with one clear alert.
 */
describe('rotation', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();

  let limitedKey: KeyPairPem;

  beforeAll(async () => {
    limitedKey = await generateKeyPair('ed25519');
    fx = await startFixture({
      extraSeed: { users: [{ username: 'limited@acme.test', permissions: ['Reader'], credentials: [{ credId: 'limited-key', publicKeyPem: limitedKey.publicKeyPem }] }] },
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        { name: 'ledger', held: true, ageDays: 300, daysValid: 365 },
        { name: 'denied', held: true, ageDays: 300, daysValid: 365 },
        { name: 'held-by-policy', held: true, ageDays: 300, daysValid: 365 },
        { name: 'broken', held: true, ageDays: 300, daysValid: 365 },
        { name: 'rekeyed', held: true, ageDays: 300, daysValid: 365 },
        { name: 'rekey-refused', held: true, ageDays: 300, daysValid: 365 },
        { name: 'rekey-fallback', held: true, ageDays: 300, daysValid: 365 },
      ],
      pats: [{ name: 'ci', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      knobs: { tokensMayManageCredentials: true },
    });
    rt = fx.runtime();
    for (const name of ['pay', 'ledger', 'denied', 'held-by-policy', 'broken', 'rekeyed', 'rekey-refused', 'rekey-fallback']) await fx.adopt(name, `sa/${name}`);
    await fx.adopt('ci', 'pat/ci', 'pat');
    rt.startWorkers();
    operator = (await rt.identities.operator())!;
  });

  afterAll(async () => {
    if (process.env.DUMP_LOGS) (await import('node:fs')).writeFileSync(process.env.DUMP_LOGS, fx.logs.join(''));
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function current(secret: string) {
    const record = await rt.store.get(secret);
    return versionWithStage(record!.versions, 'current')!;
  }

  async function rotate(credential: string, extra: Record<string, unknown> = {}): Promise<RotateResult> {
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential, reason: 'integration test', requestedBy: 'test', ...extra });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire); // the archive phase is queued by the deactivate phase
    await drain(rt.queues.notify);
    return result;
  }

  async function failureNotices(runtime: Runtime, rotationId: string): Promise<number> {
    const jobs = await runtime.queues.notify.getJobs(['completed', 'waiting', 'failed', 'delayed']);
    return jobs.filter((j) => j.name === 'rotation-failed' && j.data.rotationId === rotationId).length;
  }

  async function worksAgainstDfns(secret: string): Promise<void> {
    const v = (await current(secret)).value;
    const port = rt.identities.asSecret(v, 'check');
    await port.listPersonalAccessTokens();
    await port.proveSigning();
  }

  it('replaces a service account: new one proven and current, same permission, old one retired after promote', async () => {
    const before = await current('sa/pay');
    const result = await rotate('sa/pay');
    expect(result).toMatchObject({ step: 'retire-scheduled', secretName: 'sa/pay' });

    const after = await current('sa/pay');
    expect(after.value.credentialId).toBe(result.newCredentialId);
    expect(after.value.credentialId).not.toBe(before.value.credentialId);
    expect(after.value.name).toBe('pay-g2');
    expect(after.metadata.expiresAt).toBeGreaterThan(fx.sim.clock.now() + 364 * 86_400_000);
    await worksAgainstDfns('sa/pay');

    const newSa = await operator.getServiceAccount(after.value.credentialId!);
    expect(newSa.permissionAssignments?.map((p) => p.permissionId)).toEqual(['pm-reader']);
    await expect(operator.getServiceAccount(before.value.credentialId!)).rejects.toMatchObject({ code: 'DFNS_NOT_FOUND' });
    // The retired version's key is gone from the store.
    expect((await rt.store.get('sa/pay'))!.versions.map((v) => v.stages)).toEqual([['current']]);

    const audit = (await rt.audit.read({ limit: 50, rotationId: result.rotationId })).reverse().map((e) => e.action);
    expect(audit).toEqual(['planned', 'staged', 'create-begun', 'created', 'verified', 'promoted', 'announced', 'retire-scheduled', 'usage not checked: the overlap ended inside usageGraceMinutes (keep the grace shorter than the overlap)', 'deactivated old credential', 'archived old credential']);
    const record = await rt.rotations.get(result.rotationId);
    expect(record).toMatchObject({ step: 'done', attempt: 1, orphans: [] });
  });

  it('replaces a PAT of the operator', async () => {
    const before = await current('pat/ci');
    const result = await rotate('pat:' + before.value.credentialId);
    expect(result.step).toBe('retire-scheduled');
    const after = await current('pat/ci');
    expect(after.value.kind).toBe('pat');
    expect(after.value.credentialId).not.toBe(before.value.credentialId);
    await worksAgainstDfns('pat/ci');
    const pats = await operator.listPersonalAccessTokens();
    expect(pats.map((p) => p.tokenId)).toContain(after.value.credentialId);
    expect(pats.map((p) => p.tokenId)).not.toContain(before.value.credentialId);
  });

  it('rekeys a service account in place: same id and token, new key', async () => {
    const before = await current('sa/rekeyed');
    const result = await rotate('sa/rekeyed', { strategy: 'rekey' });
    expect(result.step).toBe('retire-scheduled');
    const after = await current('sa/rekeyed');
    expect(after.value.credentialId).toBe(before.value.credentialId);
    expect(after.value.accessToken).toBe(before.value.accessToken);
    expect(after.value.credId).not.toBe(before.value.credId);
    expect(after.value.privateKeyPem).not.toBe(before.value.privateKeyPem);
    await worksAgainstDfns('sa/rekeyed');
    // The old key no longer signs.
    const old = rt.identities.asSecret(before.value, 'old key');
    await expect(old.proveSigning()).rejects.toThrow();
  });

  it('stops a rekey Dfns refuses (403) when the fallback is notify, with one clear alert', async () => {
    const before = await current('sa/rekey-refused');
    fx.sim.setKnobs({ tokensMayManageCredentials: false });
    try {
      const result = await rotate('sa/rekey-refused', { strategy: 'rekey' });
      expect(result).toMatchObject({ step: 'rolled-back', error: expect.stringMatching(/^Dfns refused to add a Key credential to this credential \(rekey\); set rekeyFallback: replace or use strategy replace: createKeyCredential: forbidden/) });
      expect((await current('sa/rekey-refused')).versionId).toBe(before.versionId);
      await worksAgainstDfns('sa/rekey-refused');
      expect(await failureNotices(rt, result.rotationId)).toBe(1);
    } finally {
      fx.sim.setKnobs({ tokensMayManageCredentials: true });
    }
  });

  it('falls back from a refused rekey to replace when configured to', async () => {
    const before = await current('sa/rekey-fallback');
    const fallback = fx.runtime({ config: fx.configWith({ DFNS_ROTATOR_REKEY_FALLBACK: 'replace', DFNS_ROTATOR_REDIS_PREFIX: `{fallback-${Date.now()}}` }) });
    fallback.startWorkers();
    fx.sim.setKnobs({ tokensMayManageCredentials: false });
    try {
      const result = await runJob<RotateResult>(fallback.queues.rotate, 'rotate', { credential: 'sa/rekey-fallback', reason: 'integration test', strategy: 'rekey' });
      expect(result.step).toBe('retire-scheduled');
      const after = await current('sa/rekey-fallback');
      expect(after.value.credentialId).not.toBe(before.value.credentialId);
      expect(after.value.name).toBe('rekey-fallback-g2');
      await worksAgainstDfns('sa/rekey-fallback');
      const story = (await fallback.audit.read({ limit: 50, rotationId: result.rotationId })).reverse().map((e) => e.action);
      expect(story).toContain('switched-to-replace');
      await deletePrefix(redis, fallback.config.redis.prefix);
    } finally {
      fx.sim.setKnobs({ tokensMayManageCredentials: true });
    }
  });

  it('rolls back when the new credential fails verification, leaving the current one working', async () => {
    // "broken" has no permission. If Dfns gives a new SA the creator's permissions (the older
    // docs' rule, a simulator switch), the replacement would hold more rights than the original:
    // verify must catch that and roll back.
    const before = await current('sa/broken');
    fx.sim.setKnobs({ serviceAccountInheritsPermissions: true });
    const result = await rotate('sa/broken');
    fx.sim.setKnobs({ serviceAccountInheritsPermissions: false });
    expect(result).toMatchObject({ step: 'rolled-back', error: expect.stringMatching(/^verify: the replacement has permissions \[pm-admin\] but the old credential had \[\]/) });
    const after = await current('sa/broken');
    expect(after.versionId).toBe(before.versionId);
    await worksAgainstDfns('sa/broken');
    await expect(operator.getServiceAccount(
      (await rt.rotations.get(result.rotationId))!.created!.credentialId,
    )).rejects.toMatchObject({ code: 'DFNS_NOT_FOUND' });
    expect((await rt.store.get('sa/broken'))!.versions.some((v) => v.stages.includes('pending'))).toBe(false);
    expect(await failureNotices(rt, result.rotationId)).toBe(1);
  });

  it('stops on a 403 from create with the current credential untouched and one alert', async () => {
    const before = await current('sa/denied');
    // An operator who may read service accounts but not create them.
    const keyFile = fx.writeFile('limited.pem', limitedKey.privateKeyPem);
    const limited = fx.runtime({ config: fx.configWith({ DFNS_OPERATOR_USERNAME: 'limited@acme.test', DFNS_OPERATOR_CRED_ID: 'limited-key', DFNS_OPERATOR_PRIVATE_KEY_FILE: keyFile, DFNS_ROTATOR_REDIS_PREFIX: `{limited-${Date.now()}}` }) });
    limited.startWorkers();
    const result = await runJob<RotateResult>(limited.queues.rotate, 'rotate', { credential: 'sa/denied', reason: 'integration test' });
    await drain(limited.queues.notify);
    expect(result).toMatchObject({ step: 'rolled-back', error: expect.stringMatching(/createServiceAccount: forbidden: .*not authorized to perform operation \(Auth:ServiceAccounts:Create\)/) });
    const after = await current('sa/denied');
    expect(after.versionId).toBe(before.versionId);
    await worksAgainstDfns('sa/denied');
    expect(await failureNotices(limited, result.rotationId)).toBe(1);
    await deletePrefix(redis, limited.config.redis.prefix);
  });

  it('parks on a policy approval, alerts once, and resumes when re-triggered', async () => {
    const before = await current('sa/held-by-policy');
    fx.sim.setKnobs({ policyPending: ['CreateServiceAccount'] });
    const parked = await rotate('sa/held-by-policy');
    expect(parked.step).toBe('parked');
    expect((await current('sa/held-by-policy')).versionId).toBe(before.versionId);
    await worksAgainstDfns('sa/held-by-policy');
    const notices = (await rt.queues.notify.getJobs(['completed'])).filter((j) => j.name === 'rotation-parked');
    expect(notices).toHaveLength(1);

    // A scan-style re-trigger without resume leaves it parked.
    expect((await rotate('sa/held-by-policy')).step).toBe('parked');
    fx.sim.setKnobs({ policyPending: [] });
    const resumed = await rotate('sa/held-by-policy', { resume: true });
    expect(resumed).toMatchObject({ step: 'retire-scheduled', rotationId: parked.rotationId });
    await worksAgainstDfns('sa/held-by-policy');
  });

  it('keeps every token and key out of Redis and the logs', async () => {
    const secrets: string[] = [];
    for (const s of await rt.store.list()) {
      const record = await rt.store.get(s.name);
      for (const v of record!.versions) secrets.push(v.value.accessToken ?? '', v.value.privateKeyPem);
    }
    expect(secrets.length).toBeGreaterThan(4);
    expect(await keysContaining(redis, fx.config.redis.prefix, [...secrets, ...SECRET_MARKERS])).toEqual([]);
    const logs = fx.logs.join('\n');
    for (const s of [...secrets, ...SECRET_MARKERS]) if (s) expect(logs).not.toContain(s);
  });

  it('fails a hand-made job with bad data, naming the field', async () => {
    await expect(runJob(rt.queues.rotate, 'rotate', { credential: 'sa/pay' })).rejects.toThrow(/invalid rotate job data: reason: /);
    await expect(runJob(rt.queues.rotate, 'rotate', { credential: 'nope', reason: 'because' })).rejects.toThrow(/no managed credential "nope"/);
  });
});
