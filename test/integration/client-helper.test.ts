import { join } from 'node:path';
import { DfnsApiClient } from '@dfns/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatingDfnsClient, type RotatedEvent } from '../../src/client/index.js';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import { createSecretStore } from '../../src/secrets/index.js';
import { generateStoreKey, storeKeyToText } from '../../src/secrets/store-key.js';
import type { SecretStore, SecretVersion } from '../../src/secrets/types.js';
import { expectNoSecrets, startHarness, type Harness } from '../helpers/dfns-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startAwsStore } from '../helpers/aws-store-fixture.js';

/**
 * `rotatingDfnsClient` against the simulator with the official SDK and a real file store: it
 * follows the store's current version on a 401 (retrying the call once when that is safe) and on
 * its interval, emits `rotated`, and never shows a token or key in its errors.
 */
describe('rotatingDfnsClient', () => {
  let h: Harness;
  let operator: DfnsPort;
  let store: SecretStore;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const keyText = storeKeyToText(generateStoreKey());
  const keys = new Map<string, KeyPairPem>();
  const ids = new Map<string, string>();
  const names = ['sa-a', 'sa-b', 'sa-c', 'sa-d'];

  beforeAll(async () => {
    for (const n of names) keys.set(n, await generateKeyPair(n === 'sa-b' ? 'rsa-2048' : 'ecdsa-p256'));
    h = await startHarness({
      seed: () => ({
        serviceAccounts: [
          ...names.map((name) => ({ name, credId: `key-${name}`, publicKeyPem: keys.get(name)!.publicKeyPem, permission: 'Reader', daysValid: 365 })),
          { name: 'scratch', daysValid: 365 },
        ],
      }),
    });
    operator = h.operator();
    for (const sa of await operator.listServiceAccounts()) ids.set(sa.name, sa.id);
    tmp = await makeTempDir();
    store = createSecretStore({ kind: 'file', dir: join(tmp.path, 'secrets'), key: Buffer.from(keyText, 'base64') });
  });

  afterAll(async () => {
    await h.sim.close();
    await tmp.remove();
  });

  function version(versionId: number, name: string, stages: SecretVersion['stages']): SecretVersion {
    const key = keys.get(name)!;
    return {
      versionId,
      stages,
      metadata: { createdAt: versionId },
      value: {
        kind: 'service-account', orgId: h.sim.orgId, baseUrl: h.sim.url, credentialId: ids.get(name)!, name, credId: `key-${name}`,
        accessToken: h.sim.seededTokens.get(name)!, privateKeyPem: key.privateKeyPem, publicKeyPem: key.publicKeyPem, algorithm: key.algorithm, expiresAt: null,
      },
    };
  }

  async function rotateStoreTo(secret: string, name: string, versionId: number): Promise<void> {
    const record = (await store.get(secret))!;
    const versions = record.versions.filter((v) => v.stages.includes('current')).map((v) => ({ ...v, stages: ['previous' as const] }));
    await store.put(secret, [...versions, version(versionId, name, ['current'])], record.revision);
  }

  const options = (secret: string, extra: Record<string, unknown> = {}) => ({
    secret,
    store: { kind: 'file' as const, dir: join(tmp.path, 'secrets'), key: { env: 'TEST_STORE_KEY' } },
    env: { TEST_STORE_KEY: keyText },
    refreshIntervalMs: 0,
    ...extra,
  });

  it('gives the official client of the current credential and follows the store after a 401, retrying safe calls once', async () => {
    await store.put('svc/one', [version(1, 'sa-a', ['current'])], null);
    const dfns = await rotatingDfnsClient(options('svc/one'));
    const rotated: RotatedEvent[] = [];
    dfns.on('rotated', (e) => rotated.push(e));
    try {
      expect(dfns.current()).toBeInstanceOf(DfnsApiClient);
      expect(dfns.credential()).toMatchObject({ versionId: 1, credentialId: ids.get('sa-a'), credId: 'key-sa-a' });
      expect(JSON.stringify(dfns.credential())).not.toContain('PRIVATE');
      expect((await dfns.client.auth.listServiceAccounts()).items.length).toBeGreaterThan(0);

      // The daemon rotated: B is current, A deactivated. A read 401s, is retried on B, and succeeds.
      await rotateStoreTo('svc/one', 'sa-b', 2);
      await operator.deactivateServiceAccount(ids.get('sa-a')!);
      const before = dfns.current();
      expect((await dfns.client.auth.getServiceAccount({ serviceAccountId: ids.get('scratch')! })).userInfo.userId).toBe(ids.get('scratch'));
      expect(dfns.current()).not.toBe(before);
      expect(rotated).toEqual([{ previous: expect.objectContaining({ versionId: 1, credentialId: ids.get('sa-a') }), current: expect.objectContaining({ versionId: 2, credentialId: ids.get('sa-b') }), trigger: '401' }]);

      // A signed mutation whose 401 came at /auth/action/init spent no user action: retried on C.
      await rotateStoreTo('svc/one', 'sa-c', 3);
      await operator.deactivateServiceAccount(ids.get('sa-b')!);
      const done = await dfns.client.auth.deactivateServiceAccount({ serviceAccountId: ids.get('scratch')!, body: {} });
      expect(done.userInfo.isActive).toBe(false);
      expect(dfns.credential().credentialId).toBe(ids.get('sa-c'));
      // Dfns' audit log: signed once, by C (B's attempt never got a user action).
      expect(h.sim.actionLog().filter((e) => e.actionPath.endsWith(`${ids.get('scratch')}/deactivate`)).map((e) => e.userId)).toEqual([ids.get('sa-c')]);

      // No new version: the 401 is the caller's, with no token or key in it.
      await operator.deactivateServiceAccount(ids.get('sa-c')!);
      const err = await dfns.client.auth.listServiceAccounts().catch((e: unknown) => e);
      expect(err).toMatchObject({ httpStatus: 401 });
      expectNoSecrets(err, [h.sim.seededTokens.get('sa-c')!, keys.get('sa-c')!.privateKeyPem]);
      expect(rotated).toHaveLength(2);
    } finally {
      await dfns.close();
    }
  });

  it('re-reads the store on its interval and on refresh()', async () => {
    await store.put('svc/two', [version(1, 'sa-d', ['current'])], null);
    const dfns = await rotatingDfnsClient(options('svc/two', { refreshIntervalMs: 20 }));
    try {
      const next = new Promise<RotatedEvent>((resolve) => dfns.once('rotated', resolve));
      await rotateStoreTo('svc/two', 'sa-d', 2);
      expect(await next).toMatchObject({ trigger: 'interval', current: { versionId: 2 } });
      await dfns.refresh(); // may join the read that emitted the event
      expect(await dfns.refresh()).toBe(false);
    } finally {
      await dfns.close();
    }
    expect(await dfns.refresh()).toBe(false);
  });

  it('without a store block, opens the store the daemon variables describe', async () => {
    const dfns = await rotatingDfnsClient({ secret: 'svc/two', env: { DFNS_ROTATOR_STORE: 'file', DFNS_ROTATOR_STORE_DIR: join(tmp.path, 'secrets'), DFNS_ROTATOR_STORE_KEY: keyText }, refreshIntervalMs: 0 });
    try {
      expect(dfns.credential()).toMatchObject({ secret: 'svc/two', versionId: 2, credentialId: ids.get('sa-d') });
      expect((await dfns.client.auth.listServiceAccounts()).items.length).toBeGreaterThan(0);
    } finally {
      await dfns.close();
    }
  });

  it('works on the aws-secrets-manager store configured as the daemon does (its variables, the SDK default credential chain)', async () => {
    const aws = await startAwsStore();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    // The AWS SDK's default chain reads the process environment, as in a real service.
    process.env.AWS_ACCESS_KEY_ID = aws.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = aws.env.AWS_SECRET_ACCESS_KEY;
    const writer = aws.open();
    try {
      await writer.put('svc/aws', [version(1, 'sa-d', ['current'])], null);
      const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...storeEnv } = aws.env;
      const dfns = await rotatingDfnsClient({ secret: 'svc/aws', env: storeEnv, refreshIntervalMs: 0 });
      try {
        expect(dfns.credential()).toMatchObject({ credentialId: ids.get('sa-d') });
        expect((await dfns.client.auth.listServiceAccounts()).items.length).toBeGreaterThan(0);
        const record = (await writer.get('svc/aws'))!;
        await writer.put('svc/aws', [{ ...record.versions[0]!, stages: ['previous'] }, { ...version(2, 'sa-d', ['current']), versionId: record.versions[0]!.versionId + 1 }], record.revision);
        expect(await dfns.refresh()).toBe(true);
        expect(dfns.credential().versionId).toBe(record.versions[0]!.versionId + 1);
      } finally {
        await dfns.close();
      }
    } finally {
      await writer.close?.();
      await aws.close();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('fails clearly: no such secret, bad store settings, a store that cannot be read', async () => {
    await expect(rotatingDfnsClient(options('svc/missing'))).rejects.toMatchObject({ code: 'CONSUMER_CREDENTIAL', message: expect.stringContaining('"svc/missing" has no current version') });
    await expect(rotatingDfnsClient({ secret: 'svc/one', store: { kind: 'file', dir: tmp.path }, env: {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('store.key') });
    await expect(rotatingDfnsClient({ secret: 'svc/one', store: { kind: 'file', dir: join(tmp.path, 'secrets'), key: { env: 'K' } }, env: { K: storeKeyToText(generateStoreKey()) } })).rejects.toMatchObject({ code: 'CONSUMER_CREDENTIAL' });
    await expect(rotatingDfnsClient(options('svc/one', { refreshIntervalMs: -1 }))).rejects.toThrow(/refreshIntervalMs/);
  });
});
