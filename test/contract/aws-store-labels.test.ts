import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode } from '../../src/errors.js';
import { AwsSecretsManagerStore } from '../../src/secrets/aws/aws-store.js';
import { addCurrent, addPending, promotePending, updatePending } from '../../src/secrets/stages.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { makeManagedSecret, makeVersion } from '../fixtures/managed-secret.js';
import { TEST_AWS_KEY, sdkClientFor } from '../helpers/aws-server.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';

// What the aws-secrets-manager store looks like to a consumer that reads it with the official SDK
// and nothing of dfns-rotator: AWS' own labels, one JSON shape, idempotent writes, and a crash
// after the commit completed by the next read.

let fx: RunningAwsStore;
let store: SecretStore;
let sm: SecretsManagerClient;
const sleeps: number[] = [];

function fastStore(options: { retries?: number; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): AwsSecretsManagerStore {
  return new AwsSecretsManagerStore({
    region: fx.aws.region, endpoint: fx.aws.url, kmsKeyId: null, namePrefix: fx.settings.namePrefix,
    credentials: options.credentials ?? { ...TEST_AWS_KEY },
    // the SDK's own backoff sleeps for real: one SDK attempt, our retries on a recorded clock
    sdkMaxAttempts: 1, retries: options.retries ?? 6, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5,
  });
}

beforeEach(async () => {
  fx = await startAwsStore();
  store = fx.open();
  sm = sdkClientFor(fx.aws, { maxAttempts: 1 });
  sleeps.length = 0;
});
afterEach(async () => {
  sm.destroy();
  await store.close?.();
  await fx.close();
});

async function read(name: string, stage?: string): Promise<Record<string, unknown> | null> {
  try {
    const got = await sm.send(new GetSecretValueCommand({ SecretId: fx.settings.namePrefix + name, ...(stage ? { VersionStage: stage } : {}) }));
    return JSON.parse(got.SecretString!) as Record<string, unknown>;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return null;
    throw err;
  }
}

/** What a call was refused with; fails the test when it succeeds. */
async function rejection(call: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await call;
  } catch (err) {
    return err as Error & { code?: string; retryable?: boolean };
  }
  throw new Error('expected the call to be refused');
}

async function mustGet(s: SecretStore, name: string) {
  const r = await s.get(name);
  if (!r) throw new Error(`no secret ${name}`);
  return r;
}

describe('aws-secrets-manager store as consumers see it', () => {
  it('keeps AWSCURRENT on the current credential through a rotation; AWSPENDING while staged, AWSPREVIOUS after', async () => {
    const name = 'payments/api-bot';
    let rev = await store.put(name, addCurrent(null, name, makeManagedSecret({ credentialId: 'us-old', accessToken: 'tok-old' }), { createdAt: 1 }).versions, null);
    expect(await read(name)).toMatchObject({ format: 'dfns-rotator/credential/v1', kind: 'service-account', serviceAccountId: 'us-old', accessToken: 'tok-old', metadata: { versionId: 1 } });
    expect(await read(name, 'AWSPENDING')).toBeNull();

    const staged = addPending(await mustGet(store, name), name, makeManagedSecret({ credentialId: null, accessToken: null }), { createdAt: 2, rotationId: '01JROTATION000000000000001' });
    rev = await store.put(name, staged.versions, rev);
    expect(await read(name, 'AWSPENDING')).toMatchObject({ accessToken: null, metadata: { versionId: 2, rotationId: '01JROTATION000000000000001' } });
    expect(await read(name)).toMatchObject({ accessToken: 'tok-old' });

    rev = await store.put(name, updatePending(await mustGet(store, name), staged.versionId, { value: { credentialId: 'us-new', accessToken: 'tok-new' } }), rev);
    expect(await read(name, 'AWSPENDING')).toMatchObject({ serviceAccountId: 'us-new', accessToken: 'tok-new' });
    expect(await read(name)).toMatchObject({ accessToken: 'tok-old' });
    const pendingVersionId = (await sm.send(new GetSecretValueCommand({ SecretId: fx.settings.namePrefix + name, VersionStage: 'AWSPENDING' }))).VersionId;

    await store.put(name, promotePending(await mustGet(store, name), staged.versionId, 3), rev);
    const current = await sm.send(new GetSecretValueCommand({ SecretId: fx.settings.namePrefix + name }));
    // AWS' model: the pending version itself becomes current (no copy), as AWS' rotation does it
    expect(current.VersionId).toBe(pendingVersionId);
    expect(current.VersionId).toMatch(/^dfr-01JROTATION000000000000001-v2-[0-9a-f]{24}$/);
    expect(JSON.parse(current.SecretString!)).toMatchObject({ accessToken: 'tok-new' });
    expect(await read(name, 'AWSPREVIOUS')).toMatchObject({ accessToken: 'tok-old' });
    expect(await read(name, 'AWSPENDING')).toBeNull();

    // every labelled version holds the one documented JSON shape
    const labelled = (await sm.send(new DescribeSecretCommand({ SecretId: fx.settings.namePrefix + name }))).VersionIdsToStages!;
    for (const id of Object.keys(labelled)) {
      const v = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: fx.settings.namePrefix + name, VersionId: id }))).SecretString!) as Record<string, unknown>;
      expect(v.format, id).toBe('dfns-rotator/credential/v1');
      expect(Object.keys(v), id).toEqual(expect.arrayContaining(['kind', 'orgId', 'baseUrl', 'credId', 'accessToken', 'privateKey', 'publicKey', 'algorithm', 'expiresAt']));
    }
  });

  it('writes no new AWS version for a value that did not change (the ClientRequestToken is the same)', async () => {
    const versions = [makeVersion(1, ['current'])];
    await store.put('a', versions, null);
    const puts = fx.aws.stats.requests.PutSecretValue ?? 0;
    const before = await sm.send(new GetSecretValueCommand({ SecretId: `${fx.settings.namePrefix}a` }));
    await store.put('a', versions, 1);
    expect((fx.aws.stats.requests.PutSecretValue ?? 0) - puts).toBe(1); // the head only
    expect((await sm.send(new GetSecretValueCommand({ SecretId: `${fx.settings.namePrefix}a` }))).VersionId).toBe(before.VersionId);
  });

  it('after a crash between the commit and the label moves, consumers still read the old credential and the next read completes the promote', async () => {
    const name = 'payments/bot';
    const s = fastStore({ retries: 0 });
    try {
      let rev = await s.put(name, [makeVersion(1, ['current'], { accessToken: 'tok-1' }), makeVersion(2, ['pending'], { accessToken: 'tok-2' })], null);
      // the commit (the first UpdateSecretVersionStage) goes through, every label move after it fails
      fx.aws.injectFault('5xx', 50, 'UpdateSecretVersionStage', { after: 1 });
      rev = await s.put(name, promotePending(await mustGet(s, name), 2, 10), rev);
      expect(rev).toBe(2);
      expect(await read(name)).toMatchObject({ accessToken: 'tok-1' });
      expect(await read(name, 'AWSPENDING')).toMatchObject({ accessToken: 'tok-2' });

      fx.aws.clearFaults();
      const healed = await mustGet(store, name);
      expect(healed.versions.map((v) => [v.versionId, v.stages])).toEqual([[1, ['previous']], [2, ['current']]]);
      expect(await read(name)).toMatchObject({ accessToken: 'tok-2' });
      expect(await read(name, 'AWSPREVIOUS')).toMatchObject({ accessToken: 'tok-1' });
      expect(await read(name, 'AWSPENDING')).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('retries throttling with backoff and never lets a throttled writer overwrite another', async () => {
    fx.aws.knobs.throttleEvery = 3;
    const writers = [1, 2, 3, 4].map(() => fastStore());
    try {
      await writers[0]!.put('race', [makeVersion(1, ['current'], { accessToken: 'start' })], null);
      const attempts = await Promise.allSettled(writers.map((w, i) => w.put('race', [makeVersion(1, ['current'], { accessToken: `writer-${i}` })], 1)));
      const won = attempts.flatMap((a, i) => (a.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const a of attempts) if (a.status === 'rejected') expect(errorCode(a.reason)).toBe('SECRET_CONFLICT');
      expect(fx.aws.stats.throttled).toBeGreaterThan(0);
      expect(sleeps.length).toBeGreaterThanOrEqual(fx.aws.stats.throttled);
      fx.aws.knobs.throttleEvery = 0;
      const rec = await mustGet(store, 'race');
      expect(rec.revision).toBe(2);
      expect(rec.versions[0]!.value.accessToken).toBe(`writer-${won[0]}`);
      expect(await read('race')).toMatchObject({ accessToken: `writer-${won[0]}` });
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it('answers a head move refused by AWS with SecretConflictError, changing nothing a consumer reads', async () => {
    await store.put('c', [makeVersion(1, ['current'], { accessToken: 'one' })], null);
    fx.aws.injectFault('conflict', 1, 'UpdateSecretVersionStage');
    await expect(store.put('c', [makeVersion(1, ['current'], { accessToken: 'two' })], 1)).rejects.toMatchObject({ code: 'SECRET_CONFLICT' });
    expect(fx.aws.stats.conflicts).toBe(1);
    expect((await mustGet(store, 'c')).revision).toBe(1);
    expect(await read('c')).toMatchObject({ accessToken: 'one' });
    // a label move refused after the commit is looked at again and done
    fx.aws.injectFault('conflict', 2, 'UpdateSecretVersionStage', { after: 1 });
    expect(await store.put('c', [makeVersion(1, ['current'], { accessToken: 'two' })], 1)).toBe(2);
    expect(await read('c')).toMatchObject({ accessToken: 'two' });
  });

  it('gives up after its retries with a retryable error naming the action, having written nothing', async () => {
    const s = fastStore({ retries: 2 });
    try {
      fx.aws.injectFault('throttle', 10, 'DescribeSecret');
      const err = await rejection(s.put('x', [makeVersion(1, ['current'])], null));
      expect(err).toMatchObject({ code: 'SECRET_STORE_UNAVAILABLE', retryable: true });
      expect(err.message).toMatch(/DescribeSecret on ".*x" failed 3 times \(ThrottlingException/);
      expect(sleeps).toHaveLength(2);
      fx.aws.clearFaults();
      expect(await store.get('x')).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('retries an unreachable Secrets Manager, then fails with a retryable error naming the network error', async () => {
    const closed = await startAwsStore();
    await closed.close();
    const s = new AwsSecretsManagerStore({ ...closed.settings, credentials: { ...TEST_AWS_KEY }, sdkMaxAttempts: 1, retries: 2, sleep: async (ms) => void sleeps.push(ms) });
    try {
      const err = await rejection(s.list());
      expect(err).toMatchObject({ code: 'SECRET_STORE_UNAVAILABLE', retryable: true });
      expect(err.message).toMatch(/ListSecrets on ".*" failed 3 times \(network error ECONNREFUSED/);
      expect(sleeps).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it('names IAM and credentials when AWS refuses the key', async () => {
    const s = fastStore({ credentials: { accessKeyId: TEST_AWS_KEY.accessKeyId, secretAccessKey: 'wrong' } });
    try {
      const err = await rejection(s.get('x'));
      expect(err.code).toBe('SECRET_STORE_ACCESS');
      expect(err.message).toMatch(/refused DescribeSecret on ".*x": InvalidSignatureException.*IAM policy allows secretsmanager:DescribeSecret/);
      expect(sleeps).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('leaves a secret it did not write alone, and refuses to write a new secret without a current version', async () => {
    await sm.send(new CreateSecretCommand({ Name: `${fx.settings.namePrefix}foreign`, SecretString: '{"someone":"else"}' }));
    expect(await store.get('foreign')).toBeNull();
    expect(await store.list()).toEqual([]);
    await expect(store.put('foreign', [makeVersion(1, ['current'])], null)).rejects.toThrow(/exists and was not written by dfns-rotator/);
    expect(await read('foreign')).toEqual({ someone: 'else' });
    await expect(store.put('fresh', [makeVersion(1, ['pending'])], null)).rejects.toMatchObject({ code: 'SECRET_STAGE' });
    expect(await read('fresh')).toBeNull();
  });

  it('lists more than one page of secrets, only under its prefix, and creates them with the KMS key', async () => {
    const kms = new AwsSecretsManagerStore({ region: fx.aws.region, endpoint: fx.aws.url, kmsKeyId: 'alias/dfns', namePrefix: fx.settings.namePrefix, credentials: { ...TEST_AWS_KEY } });
    try {
      for (let i = 0; i < 105; i++) await kms.put(`bulk/s-${String(i).padStart(3, '0')}`, [makeVersion(1, ['current'], { name: `s-${i}` })], null);
      await sm.send(new CreateSecretCommand({ Name: 'elsewhere/x', SecretString: '{}' }));
      const list = await store.list();
      expect(list).toHaveLength(105);
      expect(list[0]).toMatchObject({ name: 'bulk/s-000', revision: 1, versions: [{ versionId: 1, stages: ['current'], kind: 'service-account', name: 's-0' }] });
      expect(fx.aws.stats.requests.ListSecrets).toBe(2);
      expect((await sm.send(new DescribeSecretCommand({ SecretId: `${fx.settings.namePrefix}bulk/s-000` }))).KmsKeyId).toBe('alias/dfns');
    } finally {
      await kms.close();
    }
  });
});
