import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { DOCUMENTED_SHAPES } from '../../src/dfns/simulator/knobs.js';
import type { SimKnobs } from '../../src/dfns/simulator/types.js';
import { adoptCredential } from '../../src/jobs/identities/adopt.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { StoredScan } from '../../src/jobs/state/scan-results.js';
import type { ScanSummary } from '../../src/model.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 9, "Survive the Dfns that the documentation shows": adopt, scan and rotate (replace) a
 * service account and a PAT against the simulator answering in every shape Dfns' documentation
 * prints, all at once and one by one. The rotation must succeed and store the real credId even
 * when the create answer says `credId: ""`.
 */

/** 429s without Retry-After only matter when some come: a few injected ones on reads and signing. */
const SOME_429S: Partial<SimKnobs> = { faultRate: 0.25, faultKinds: ['rate-limited'], faultOperations: ['ListServiceAccounts', 'ListPats', 'ActionInit', 'GetServiceAccount'], randomSeed: 7 };

const SWITCHES: [string, Partial<SimKnobs>][] = [
  ['every documented shape at once', { ...DOCUMENTED_SHAPES, ...SOME_429S }],
  ['create answer with credId "" and publicKey ""', { createAnswerOmitsCredId: true }],
  ['userInfo without name', { userInfoOmitsName: true }],
  ['tenantId instead of orgId', { tenantIdInsteadOfOrgId: true }],
  ['no kind', { omitKind: true }],
  ['429 without Retry-After', { retryAfterSeconds: null, ...SOME_429S }],
  ['tokens without exp by default', { defaultDaysValid: null }],
];

describe.each(SWITCHES)('against Dfns answering with %s', (_label, knobs) => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' },
        // No daysValid: dated only when the simulator's default is.
        { name: 'legacy', held: true, ageDays: 100 },
        { name: 'bystander', ageDays: 10, daysValid: 365 },
      ],
      pats: [{ name: 'ci', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      knobs,
    });
    rt = fx.runtime();
    operator = (await rt.identities.operator())!;
    // Adopt as a user would: no credId given, so it is read from what Dfns lists.
    for (const [seedName, secretName, kind] of [['pay', 'sa/pay', 'service-account'], ['legacy', 'sa/legacy', 'service-account'], ['ci', 'pat/ci', 'pat']] as const) {
      const held = fx.keys.get(seedName)!;
      const credentialId = kind === 'pat'
        ? (await operator.listPersonalAccessTokens()).find((p) => p.name === seedName)!.tokenId
        : (await operator.listServiceAccounts()).find((s) => s.name === seedName)!.id;
      const adopted = await adoptCredential(
        { store: rt.store, identities: rt.identities, config: fx.config, clock: fx.sim.clock },
        { secretName, kind, credentialId, accessToken: fx.sim.seededTokens.get(seedName)!, privateKeyPem: held.key.privateKeyPem },
      );
      expect(adopted.name).toBe(seedName); // name ← username when userInfo has no name
      expect((await current(secretName)).value.credId).toBe(held.credId);
    }
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function current(secret: string) {
    const record = await rt.store.get(secret);
    return versionWithStage(record!.versions, 'current')!;
  }

  async function rotate(credential: string): Promise<RotateResult> {
    // The scan queued rotations of its own; with several rotations at once (the default) this
    // request would join one of them: let them finish first.
    await drain(rt.queues.rotate);
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential, reason: 'documented shapes', requestedBy: 'test' });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    return result;
  }

  it('scans every credential, with no identity errors', async () => {
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    expect(summary.errors).toEqual([]);
    const { items } = (await rt.results.load()) as StoredScan;
    const byName = new Map(items.map((i) => [i.name, i]));
    expect([...byName.keys()].sort()).toEqual(['bystander', 'ci', 'legacy', 'pay']);
    expect(byName.get('pay')).toMatchObject({ managed: true, expirySource: 'token', state: 'rotate' });
    expect(byName.get('ci')).toMatchObject({ managed: true, expirySource: 'token', kind: 'pat' });
    expect(byName.get('bystander')).toMatchObject({ managed: false, expirySource: 'estimate' });
    expect(byName.get('bystander')!.reason).toContain('(estimated)');
    const legacy = byName.get('legacy')!;
    if (knobs.defaultDaysValid === null) {
      expect(legacy).toMatchObject({ state: 'unknown', expirySource: 'none' });
      expect(legacy.action).toContain('rotate it onto a dated token');
    } else {
      expect(legacy).toMatchObject({ expirySource: 'token', state: 'ok' });
    }
  });

  it('replaces the service account and stores the real credId of the new one', async () => {
    const before = await current('sa/pay');
    const result = await rotate('sa/pay');
    expect(result).toMatchObject({ step: 'retire-scheduled' });
    const after = await current('sa/pay');
    expect(after.value.credentialId).not.toBe(before.value.credentialId);
    const listed = await operator.getServiceAccount(after.value.credentialId!);
    expect(after.value.credId).not.toBe('');
    expect(after.value.credId).toBe(listed.accessTokens[0]!.credId);
    const port = rt.identities.asSecret(after.value, 'check');
    expect(await port.signingCredentialIds()).toEqual([after.value.credId]);
    await port.proveSigning();
  });

  it('replaces the PAT and stores the real credId of the new one', async () => {
    const before = await current('pat/ci');
    const result = await rotate('pat/ci');
    expect(result).toMatchObject({ step: 'retire-scheduled' });
    const after = await current('pat/ci');
    expect(after.value.credentialId).not.toBe(before.value.credentialId);
    const listed = await operator.getPersonalAccessToken(after.value.credentialId!);
    expect(after.value.credId).not.toBe('');
    expect(after.value.credId).toBe(listed.credId);
    await rt.identities.asSecret(after.value, 'check').proveSigning();
  });

  it('rotates a token without exp onto a dated one', async () => {
    await rotate('sa/legacy');
    const after = await current('sa/legacy');
    expect(after.metadata.expiresAt).toBeGreaterThan(fx.sim.clock.now());
    expect(after.value.credId).not.toBe('');
  });

  it('met the shape it was set up for', () => {
    if (knobs.faultRate) expect(fx.sim.stats().byStatus['429'] ?? 0).toBeGreaterThan(0);
    expect(fx.sim.knobs).toMatchObject(knobs);
  });
});
