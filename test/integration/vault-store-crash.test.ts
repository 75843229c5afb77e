import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/config/secret-value.js';
import { createSecretStore } from '../../src/secrets/index.js';
import { addCurrent, addPending, updatePending, versionWithStage } from '../../src/secrets/stages.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { startVaultServer, type RunningVault } from '../../src/secrets/vault-server/index.js';
import { makeManagedSecret } from '../fixtures/managed-secret.js';
import { LineChild } from '../helpers/line-child.js';

/**
 * Issue 10: the Vault store's one two-write sequence (record, then consumer path), with the
 * writer SIGKILLed between the two writes. The state left is the pre-promote view for consumers
 * (the old credential, still valid), and the next read by anyone completes it.
 */
describe('Vault store: a writer killed between the record write and the consumer write', () => {
  const ROOT = 'hvs.crash-root';
  let vault: RunningVault;
  let store: SecretStore;

  beforeAll(async () => {
    vault = await startVaultServer({ rootToken: ROOT });
    store = createSecretStore({ kind: 'vault', address: vault.url, mount: 'secret', pathPrefix: 'dfns-rotator/', namespace: null, caFile: null, auth: { method: 'token', token: new SecretValue(ROOT, 'test') } });
  });
  afterAll(() => vault.close());

  async function consumerToken(): Promise<{ token: string; version: number }> {
    const res = await fetch(`${vault.url}/v1/secret/data/dfns-rotator/sa/crash`, { headers: { 'X-Vault-Token': ROOT } });
    const body = (await res.json()) as { data: { data: { accessToken: string }; metadata: { version: number } } };
    return { token: body.data.data.accessToken, version: body.data.metadata.version };
  }

  it('leaves consumers on the old credential, and the next read publishes the new one', async () => {
    const name = 'sa/crash';
    let rev = await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-old' }), { createdAt: 1 }).versions, null);
    const staged = addPending((await store.get(name))!, name, makeManagedSecret({ accessToken: null, credentialId: null }), { createdAt: 2, rotationId: 'r' });
    rev = await store.put(name, staged.versions, rev);
    rev = await store.put(name, updatePending((await store.get(name))!, staged.versionId, { value: { accessToken: 'tok-new', credentialId: 'us-new' } }), rev);

    const child = new LineChild('vault-promote-child.ts', { VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT, SECRET_NAME: name });
    await child.waitForLine(/^CRASH-POINT record-written$/);
    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    // The promote is committed in the record; the consumer path still shows the old credential.
    const raw = await fetch(`${vault.url}/v1/secret/data/dfns-rotator/.rotator/${name}`, { headers: { 'X-Vault-Token': ROOT } });
    const record = (await raw.json()) as { data: { data: { versions: { stages: string[]; value: { accessToken: string } }[] }; metadata: { version: number } } };
    expect(record.data.metadata.version).toBe(rev + 1);
    expect(record.data.data.versions.find((v) => v.stages.includes('current'))?.value.accessToken).toBe('tok-new');
    expect(await consumerToken()).toEqual({ token: 'tok-old', version: 1 });

    const read = (await store.get(name))!;
    expect(versionWithStage(read.versions, 'current')!.value.accessToken).toBe('tok-new');
    expect(await consumerToken()).toEqual({ token: 'tok-new', version: 2 });
  });
});
