import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sleep } from '../../src/clock.js';
import { updateSecret } from '../../src/jobs/effects/secret-writes.js';
import type { AwsAction } from '../../src/secrets/aws-server/index.js';
import { addCurrent, addPending, promotePending, updatePending, versionWithStage } from '../../src/secrets/stages.js';
import type { SecretRecord, SecretStore } from '../../src/secrets/types.js';
import { makeManagedSecret } from '../fixtures/managed-secret.js';
import { sdkClientFor } from '../helpers/aws-server.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';

// A writer that dies at any AWS call of a rotation's three store writes (stage, record the token,
// promote) leaves a state the next writer completes, and consumers read the old credential or the
// new one, never a pending one and never the new one before the record says it is current. The
// dying writer is a store whose call is never answered, either before AWS carries it out or after
// (the answer lost): the two ways a SIGKILL can cut a call.

const WRITES: AwsAction[] = ['CreateSecret', 'PutSecretValue', 'UpdateSecretVersionStage'];
const ROTATION = '01JCRASHROTATION0000000001';
const OLD = 'eyJ.old-token.sig';
const NEW = 'eyJ.new-token.sig';
const frozen: Sleep = () => new Promise<never>(() => {});

/** The store writes of a rotation, each idempotent on resume as the engine's effects are. */
async function rotate(store: SecretStore, name: string, sleep: Sleep): Promise<void> {
  const pendingOf = (r: SecretRecord | null) => r?.versions.find((v) => v.metadata.rotationId === ROTATION);
  await updateSecret(store, name, (r) => (pendingOf(r) ? null : addPending(r, name, makeManagedSecret({ credentialId: null, accessToken: null }), { createdAt: 2, rotationId: ROTATION }).versions), { sleep });
  await updateSecret(store, name, (r) => {
    const p = pendingOf(r)!;
    return p.value.accessToken === NEW ? null : updatePending(r!, p.versionId, { value: { accessToken: NEW, credentialId: 'us-new' } });
  }, { sleep });
  await updateSecret(store, name, (r) => {
    const p = pendingOf(r)!;
    return p.stages.includes('current') ? null : promotePending(r!, p.versionId, 3);
  }, { sleep });
}

let fx: RunningAwsStore;
let sm: SecretsManagerClient;
let writesPerRotation = 0;

async function seed(store: SecretStore, name: string): Promise<void> {
  await store.put(name, addCurrent(null, name, makeManagedSecret({ credentialId: 'us-old', accessToken: OLD }), { createdAt: 1 }).versions, null);
}

async function consumerToken(name: string, stage?: string): Promise<string | null | undefined> {
  try {
    const got = await sm.send(new GetSecretValueCommand({ SecretId: `${fx.settings.namePrefix}${name}`, ...(stage ? { VersionStage: stage } : {}) }));
    return (JSON.parse(got.SecretString!) as { accessToken: string | null }).accessToken;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

const writeCount = () => WRITES.reduce((n, a) => n + (fx.aws.stats.requests[a] ?? 0), 0);

beforeAll(async () => {
  fx = await startAwsStore();
  sm = sdkClientFor(fx.aws, { maxAttempts: 1 });
  const store = fx.open();
  await seed(store, 'count');
  const before = writeCount();
  await rotate(store, 'count', async () => undefined);
  writesPerRotation = writeCount() - before;
  await store.close?.();
});
afterAll(async () => {
  sm.destroy();
  await fx.close();
});

describe('aws-secrets-manager store: a writer dying at every AWS call', () => {
  it('has a rotation of many AWS writes to cut', () => {
    expect(writesPerRotation).toBeGreaterThanOrEqual(12);
  });

  for (const phase of ['before', 'after'] as const) {
    it(`is completed by the next writer wherever it died (${phase} AWS carried the call out)`, async () => {
      for (let k = 1; k <= writesPerRotation; k++) {
        const name = `crash/${phase}-${k}`;
        const setup = fx.open();
        await seed(setup, name);
        await setup.close?.();

        const held = fx.aws.holdRequest({ nth: k, phase, actions: WRITES });
        const doomed = fx.openWithSleep(frozen);
        void rotate(doomed, name, frozen).catch(() => undefined); // never returns: its call at k is never answered
        const action = await held;

        const next = fx.open();
        try {
          // What consumers read at the moment of the crash: the old credential or the committed new one.
          const atCrash = await consumerToken(name);
          expect([OLD, NEW], `${name} (${action})`).toContain(atCrash);
          const record = (await next.get(name))!;
          const current = versionWithStage(record.versions, 'current')!;
          if (atCrash === NEW) expect(current.value.accessToken, name).toBe(NEW);
          // After one read the labels are those of the committed record.
          expect(await consumerToken(name), name).toBe(current.value.accessToken);
          expect(await consumerToken(name, 'AWSPENDING'), name).toBe(versionWithStage(record.versions, 'pending')?.value.accessToken);

          await rotate(next, name, async () => undefined);
          const done = (await next.get(name))!;
          expect(done.versions.map((v) => [v.versionId, v.stages, v.value.accessToken]), name).toEqual([[1, ['previous'], OLD], [2, ['current'], NEW]]);
          expect(await consumerToken(name), name).toBe(NEW);
          expect(await consumerToken(name, 'AWSPREVIOUS'), name).toBe(OLD);
          expect(await consumerToken(name, 'AWSPENDING'), name).toBeUndefined();
        } finally {
          await next.close?.();
        }
      }
    }, 60_000);
  }
});
