import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SecretValue } from '../../src/config/secret-value.js';
import type { VaultAuthConfig } from '../../src/config/types.js';
import { errorCode } from '../../src/errors.js';
import { updateSecret } from '../../src/jobs/effects/secret-writes.js';
import { createSecretStore } from '../../src/secrets/index.js';
import { addCurrent, addPending, dropVersion, promotePending, updatePending } from '../../src/secrets/stages.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { startVaultServer, type Capability, type PolicyRule, type RunningVault } from '../../src/secrets/vault-server/index.js';
import { makeManagedSecret, makeVersion } from '../fixtures/managed-secret.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The Vault store beyond the port's contract: what a consumer reading Vault with plain HTTP sees
 * (current only, previous one version back, never pending), crash states between the record and
 * the consumer path, auth (AppRole, Kubernetes, renewal, re-login), 403s naming the policy path,
 * retries and namespaces.
 */
const ROOT = 'hvs.root-test';

/** The HCL policy the README shows under `<!-- vault-policy:NAME -->`, as the local Vault's rules. */
function readmePolicy(name: string): PolicyRule[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = new RegExp(`<!-- vault-policy:${name} -->\\n\`\`\`hcl\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  if (!block) throw new Error(`README has no vault-policy:${name} block`);
  const rules = [...block.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => ({
    path: m[1]!,
    capabilities: [...m[2]!.matchAll(/"([a-z]+)"/g)].map((c) => c[1] as Capability),
  }));
  expect(rules.length).toBeGreaterThan(0);
  return rules;
}
const noSleep = async () => undefined;

describe('Vault store', () => {
  let vault: RunningVault;
  let clock: ManualClock;
  let tmp: { path: string; remove(): Promise<void> };
  const stores: SecretStore[] = [];

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
    tmp = await makeTempDir();
    vault = await startVaultServer({
      rootToken: ROOT,
      clock,
      appRoles: [{ roleName: 'dfns-rotator', roleId: 'role-123', secretId: 'secret-456', ttlSeconds: 60, maxTtlSeconds: 120, policies: [{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'list'] }] }],
      kubernetesRoles: [{ role: 'rotator', jwt: 'k8s.jwt.value', ttlSeconds: 600, policies: [{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'list'] }] }],
    });
  });
  afterEach(async () => {
    await vault.close();
    await tmp.remove();
  });

  function open(auth: VaultAuthConfig = { method: 'token', token: new SecretValue(ROOT, 'test') }, extra: { namespace?: string; pathPrefix?: string } = {}): SecretStore {
    const s = createSecretStore({ kind: 'vault', address: vault.url, mount: 'secret', pathPrefix: extra.pathPrefix ?? 'dfns-rotator/', namespace: extra.namespace ?? null, caFile: null, auth }, { clock, sleep: noSleep });
    stores.push(s);
    return s;
  }

  /** What `vault kv get` does: plain HTTP, no dfns-rotator code. */
  async function consumerRead(path: string, version?: number, token = ROOT): Promise<{ status: number; body: any }> {
    const res = await fetch(`${vault.url}/v1/secret/data/${path}${version ? `?version=${version}` : ''}`, { headers: { 'X-Vault-Token': token } });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  async function rotate(store: SecretStore, name: string, token: string, id: string) {
    let rec = (await store.get(name))!;
    const staged = addPending(rec, name, makeManagedSecret({ credentialId: null, accessToken: null }), { createdAt: clock.now(), rotationId: id });
    let rev = await store.put(name, staged.versions, rec.revision);
    rec = (await store.get(name))!;
    rev = await store.put(name, updatePending(rec, staged.versionId, { value: { accessToken: token, credentialId: `us-${id}` } }), rev);
    return { staged, rev };
  }

  it('shows consumers the current credential as the latest version, the previous one a version back, and never the pending one', async () => {
    const store = open();
    const name = 'payments/api';
    const adopted = addCurrent(null, name, makeManagedSecret({ credentialId: 'us-old', accessToken: 'tok-old' }), { createdAt: 1 });
    await store.put(name, adopted.versions, null);

    let read = await consumerRead('dfns-rotator/payments/api');
    expect(read.status).toBe(200);
    expect(read.body.data.data).toMatchObject({ format: 'dfns-rotator/credential/v1', serviceAccountId: 'us-old', accessToken: 'tok-old' });
    expect(read.body.data.metadata.version).toBe(1);

    // A staged and filled-in pending credential is not where consumers read.
    const { staged, rev } = await rotate(store, name, 'tok-new', 'r1');
    read = await consumerRead('dfns-rotator/payments/api');
    expect(read.body.data.metadata.version).toBe(1);
    expect(read.body.data.data.accessToken).toBe('tok-old');

    await store.put(name, promotePending((await store.get(name))!, staged.versionId, 99), rev);
    read = await consumerRead('dfns-rotator/payments/api');
    expect(read.body.data.metadata.version).toBe(2);
    expect(read.body.data.data).toMatchObject({ serviceAccountId: 'us-r1', accessToken: 'tok-new', metadata: { versionId: 2, rotationId: 'r1', rotatedAt: 99 } });
    const previous = await consumerRead('dfns-rotator/payments/api', 1);
    expect(previous.body.data.data.accessToken).toBe('tok-old');
    // People browsing Vault see who manages the path and when the credential expires.
    const meta = (await (await fetch(`${vault.url}/v1/secret/metadata/dfns-rotator/payments/api`, { headers: { 'X-Vault-Token': ROOT } })).json()) as { data: { cas_required: boolean; custom_metadata: Record<string, string> } };
    expect(meta.data).toMatchObject({ cas_required: true, custom_metadata: { 'managed-by': 'dfns-rotator', record: 'secret/dfns-rotator/.rotator/payments/api', 'version-id': '2', 'credential-id': 'us-r1', 'expires-at': '2030-01-01T00:00:00.000Z' } });
    // The record (with every stage) sits at the documented sibling path.
    expect((await consumerRead('dfns-rotator/.rotator/payments/api')).body.data.data.versions.map((v: { stages: string[] }) => v.stages)).toEqual([['previous'], ['current']]);
  });

  it('completes a promote whose consumer write was lost (a crash between the two writes) on the next read, from any handle', async () => {
    const store = open();
    const name = 'sa/x';
    await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    const { staged, rev } = await rotate(store, name, 'tok-2', 'r2');
    // Every attempt at the consumer path fails, as if the process died after the record write.
    const before = (await store.get(name))!;
    vault.failNext(5, 503, 'POST secret/data/dfns-rotator/sa/x');
    // The record write is committed; the put fails (retryably) so the rotation does not go on.
    const err = await store.put(name, promotePending(before, staged.versionId, 5), rev).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'VAULT_NOT_PUBLISHED', retryable: true, message: expect.stringContaining(`revision ${rev + 1} is written, but consumers still see the previous credential`) });
    const promoted = rev + 1;
    expect((await consumerRead('dfns-rotator/sa/x')).body.data.data.accessToken).toBe('tok-1');

    const other = open();
    const rec = (await other.get(name))!;
    expect(rec.revision).toBe(promoted);
    const after = await consumerRead('dfns-rotator/sa/x');
    expect(after.body.data.data.accessToken).toBe('tok-2');
    expect(after.body.data.metadata.version).toBe(2);
    // A second read writes nothing more.
    await other.get(name);
    expect((await consumerRead('dfns-rotator/sa/x')).body.data.metadata.version).toBe(2);
  });

  it('never moves the consumer path back to an older record', async () => {
    const a = open();
    const name = 'sa/y';
    await a.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    const stale = (await a.get(name))!;
    const { staged, rev } = await rotate(a, name, 'tok-2', 'r3');
    await a.put(name, promotePending((await a.get(name))!, staged.versionId, 5), rev);
    // A slow daemon that read the record long ago tries to publish it: CAS refuses its record write…
    await expect(a.put(name, stale.versions, stale.revision)).rejects.toMatchObject({ code: 'SECRET_CONFLICT' });
    // …and a read repairs nothing backwards.
    await open().get(name);
    expect((await consumerRead('dfns-rotator/sa/y')).body.data.data.accessToken).toBe('tok-2');
  });

  it('retries 5xx and 429 answers with backoff, and reports a persistent outage as retryable', async () => {
    const store = open();
    vault.failNext(2, 503);
    vault.failNext(1, 429);
    await store.put('a', addCurrent(null, 'a', makeManagedSecret(), { createdAt: 1 }).versions, null);
    expect((await store.get('a'))?.revision).toBe(1);
    expect(vault.requests.filter((r) => r.status === 503 || r.status === 429)).toHaveLength(3);
    vault.failNext(10, 500);
    await expect(store.get('a')).rejects.toSatisfy((e: { code?: string; retryable?: boolean; message: string }) => e.code === 'VAULT_ERROR' && e.retryable === true && /500/.test(e.message));
  });

  it('turns a CAS conflict into SecretConflictError, which the read-modify-write retries without overwriting', async () => {
    const store = open();
    await store.put('c', addCurrent(null, 'c', makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    vault.conflictNext(1);
    await expect(store.put('c', (await store.get('c'))!.versions, 1)).rejects.toMatchObject({ code: 'SECRET_CONFLICT' });
    vault.conflictNext(2);
    const done = await updateSecret(store, 'c', (r) => addPending(r, 'c', makeManagedSecret({ accessToken: null }), { createdAt: 2, rotationId: 'r' }).versions, { sleep: noSleep });
    expect(done?.revision).toBe(2);
    expect((await store.get('c'))!.versions.map((v) => v.stages)).toEqual([['current'], ['pending']]);
  });

  it('names the policy path and capability a 403 needs, and never the token', async () => {
    const limited = vault.issueToken([{ path: 'secret/data/dfns-rotator/*', capabilities: ['read'] }], { ttlSeconds: 3600 });
    const store = open({ method: 'token', token: new SecretValue(limited.id, 'test') });
    const err = await store.put('p', addCurrent(null, 'p', makeManagedSecret(), { createdAt: 1 }).versions, null).catch((e: Error) => e);
    expect(errorCode(err)).toBe('VAULT_PERMISSION_DENIED');
    expect((err as Error).message).toContain('Vault denied create or update on secret/metadata/dfns-rotator/.rotator/p');
    expect((err as Error).message).toContain('path "secret/metadata/dfns-rotator/.rotator/p" { capabilities = ["create", "update"] }');
    expect((err as Error).message).not.toContain(limited.id);
    const listErr = await store.list().catch((e: Error) => e);
    expect((listErr as Error).message).toContain('path "secret/metadata/dfns-rotator/.rotator/" { capabilities = ["list"] }');
  });

  it('logs in with AppRole, renews the token before it expires, and logs in again when renewal cannot reach far enough', async () => {
    const store = open({ method: 'approle', roleId: 'role-123', secretId: new SecretValue('secret-456', 'test'), mountPath: 'approle' });
    await store.put('r', addCurrent(null, 'r', makeManagedSecret(), { createdAt: 1 }).versions, null);
    const paths = () => vault.requests.map((r) => r.path).filter((p) => p.startsWith('auth/'));
    expect(paths()).toEqual(['auth/approle/login']);
    clock.advance(45_000); // two thirds of the 60 s lease have passed
    await store.get('r');
    expect(paths()).toEqual(['auth/approle/login', 'auth/token/renew-self']);
    clock.advance(50_000); // near the 120 s max TTL: renewal is capped, so log in again
    await store.get('r');
    expect(paths().slice(2)).toEqual(['auth/token/renew-self', 'auth/approle/login']);
    clock.advance(10 * 60_000); // long idle: the token expired, a 403 triggers a fresh login
    expect((await store.get('r'))?.revision).toBe(1);
    // At shutdown the login token is revoked.
    await store.close?.();
    expect(paths().at(-1)).toBe('auth/token/revoke-self');
    expect(vault.requests.at(-1)?.status).toBe(204);
  });

  it('refuses a wrong AppRole secret with an error that names the role, not the secret', async () => {
    const store = open({ method: 'approle', roleId: 'role-123', secretId: new SecretValue('wrong-secret', 'test'), mountPath: 'approle' });
    const err = await store.get('x').catch((e: Error) => e);
    expect(errorCode(err)).toBe('VAULT_AUTH');
    expect((err as Error).message).toContain('role id role-123');
    expect((err as Error).message).not.toContain('wrong-secret');
  });

  it('logs in with Kubernetes auth from the service-account token file', async () => {
    const jwtFile = join(tmp.path, 'token');
    writeFileSync(jwtFile, 'k8s.jwt.value\n');
    const store = open({ method: 'kubernetes', role: 'rotator', jwtFile, mountPath: 'kubernetes' });
    await store.put('k', addCurrent(null, 'k', makeManagedSecret(), { createdAt: 1 }).versions, null);
    expect((await store.list()).map((s) => s.name)).toEqual(['k']);
    expect(vault.requests.filter((r) => r.path === 'auth/kubernetes/login')).toHaveLength(1);
  });

  it('sends the namespace on every request and keeps namespaces apart', async () => {
    const store = open(undefined, { namespace: 'team-a' });
    await store.put('n', addCurrent(null, 'n', makeManagedSecret(), { createdAt: 1 }).versions, null);
    expect(vault.requests.every((r) => r.namespace === 'team-a')).toBe(true);
    expect(await open().get('n')).toBeNull();
    expect((await open(undefined, { namespace: 'team-a' }).get('n'))?.revision).toBe(1);
  });

  it('refuses to take over a consumer path that holds a secret it did not write', async () => {
    await fetch(`${vault.url}/v1/secret/data/dfns-rotator/legacy`, { method: 'POST', headers: { 'X-Vault-Token': ROOT }, body: JSON.stringify({ data: { password: 'hunter2' } }) });
    const store = open();
    await expect(store.put('legacy', addCurrent(null, 'legacy', makeManagedSecret(), { createdAt: 1 }).versions, null)).rejects.toThrow(/did not write/);
    expect(await store.get('legacy')).toBeNull();
    expect((await consumerRead('dfns-rotator/legacy')).body.data.data).toEqual({ password: 'hunter2' });
  });

  it('lists only managed secrets, recursively, ignoring other secrets under the prefix', async () => {
    const store = open(undefined, { pathPrefix: '' });
    await fetch(`${vault.url}/v1/secret/data/other/thing`, { method: 'POST', headers: { 'X-Vault-Token': ROOT }, body: JSON.stringify({ data: { a: '1' } }) });
    for (const n of ['z', 'team/a/deep', 'team/b']) await store.put(n, addCurrent(null, n, makeManagedSecret(), { createdAt: 1 }).versions, null);
    expect((await store.list()).map((s) => s.name)).toEqual(['team/a/deep', 'team/b', 'z']);
    expect((await consumerRead('team/a/deep')).body.data.data.format).toBe('dfns-rotator/credential/v1');
  });

  it('works with exactly the README least-privilege daemon policy, through a whole rotation', async () => {
    const token = vault.issueToken(readmePolicy('daemon'), { ttlSeconds: 3600 });
    const store = open({ method: 'token', token: new SecretValue(token.id, 'test') });
    const name = 'payments/api';
    await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    const { staged, rev } = await rotate(store, name, 'tok-2', 'r9');
    await store.put(name, promotePending((await store.get(name))!, staged.versionId, 5), rev);
    await expect(store.put(name, (await store.get(name))!.versions, 1)).rejects.toMatchObject({ code: 'SECRET_CONFLICT' });
    expect((await store.list()).map((s) => s.name)).toEqual([name]);
    expect((await consumerRead('dfns-rotator/payments/api')).body.data.data.accessToken).toBe('tok-2');
  });

  it('lets a consumer with the README read-only policy read current and previous, and nothing of the record', async () => {
    const store = open();
    const name = 'payments/api';
    await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    const { staged, rev } = await rotate(store, name, 'tok-2', 'r10');
    await store.put(name, promotePending((await store.get(name))!, staged.versionId, 5), rev);
    await store.put('other/secret', addCurrent(null, 'other/secret', makeManagedSecret(), { createdAt: 1 }).versions, null);

    const consumer = vault.issueToken(readmePolicy('consumer'), { ttlSeconds: 3600 }).id;
    expect((await consumerRead('dfns-rotator/payments/api', undefined, consumer)).body.data.data.accessToken).toBe('tok-2');
    expect((await consumerRead('dfns-rotator/payments/api', 1, consumer)).body.data.data.accessToken).toBe('tok-1');
    const denied = await consumerRead('dfns-rotator/.rotator/payments/api', undefined, consumer);
    expect(denied).toEqual({ status: 403, body: { errors: ['permission denied'] } });
    expect((await consumerRead('dfns-rotator/other/secret', undefined, consumer)).status).toBe(403);
  });

  it('destroys the retired credentials in the consumer path history once no previous credential is kept', async () => {
    const store = open();
    const name = 'sa/retire';
    await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    const { staged, rev } = await rotate(store, name, 'tok-2', 'r11');
    const promotedRev = await store.put(name, promotePending((await store.get(name))!, staged.versionId, 5), rev);
    // The previous credential is still in its overlap window: readable.
    expect((await consumerRead('dfns-rotator/sa/retire', 1)).body.data.data.accessToken).toBe('tok-1');
    const rec = (await store.get(name))!;
    await store.put(name, dropVersion(rec, rec.versions.find((v) => v.stages.includes('previous'))!.versionId), promotedRev);
    const gone = await consumerRead('dfns-rotator/sa/retire', 1);
    expect(gone.status).toBe(404);
    expect(gone.body.data.metadata.destroyed).toBe(true);
    expect((await consumerRead('dfns-rotator/sa/retire')).body.data.data.accessToken).toBe('tok-2');
    // The record keeps a bounded history and refuses writes without check-and-set.
    const meta = (await (await fetch(`${vault.url}/v1/secret/metadata/dfns-rotator/.rotator/sa/retire`, { headers: { 'X-Vault-Token': ROOT } })).json()) as { data: { max_versions: number; cas_required: boolean; versions: Record<string, unknown> } };
    expect(meta.data).toMatchObject({ max_versions: 3, cas_required: true });
    expect(Object.keys(meta.data.versions)).toHaveLength(3);
  });

  it('recognises its own write whose answer was lost, instead of reporting a conflict', async () => {
    const store = open();
    await store.put('lost', addCurrent(null, 'lost', makeManagedSecret({ accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
    // Vault applies the record write, the answer is lost, the retry meets its own version.
    vault.failAfterNext(1, 503, 'POST secret/data/dfns-rotator/.rotator/lost');
    const staged = addPending((await store.get('lost'))!, 'lost', makeManagedSecret({ accessToken: null }), { createdAt: 2, rotationId: 'r' });
    expect(await store.put('lost', staged.versions, 1)).toBe(2);
    expect((await store.get('lost'))!.versions.map((v) => v.stages)).toEqual([['current'], ['pending']]);
    // A real conflict after a lost answer is still a conflict.
    vault.failAfterNext(1, 503, 'POST secret/data/dfns-rotator/.rotator/lost');
    await store.put('lost', (await store.get('lost'))!.versions, 2);
    await expect(store.put('lost', staged.versions, 2)).rejects.toMatchObject({ code: 'SECRET_CONFLICT' });
  });

  it('renews a configured renewable token (lookup-self, then renew-self) before it expires', async () => {
    const token = vault.issueToken([{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'list'] }], { ttlSeconds: 60, maxTtlSeconds: 600 });
    const store = open({ method: 'token', token: new SecretValue(token.id, 'test') });
    await store.put('t', addCurrent(null, 't', makeManagedSecret(), { createdAt: 1 }).versions, null);
    clock.advance(45_000);
    await store.get('t');
    clock.advance(45_000); // past the original 60 s: only the renewal keeps it alive
    expect((await store.get('t'))?.revision).toBe(1);
    expect(vault.requests.map((r) => r.path).filter((p) => p.startsWith('auth/'))).toEqual(['auth/token/lookup-self', 'auth/token/renew-self', 'auth/token/renew-self']);
  });

  it('reports a record whose latest version was deleted by hand, with the command that undoes it, instead of calling it missing', async () => {
    const store = open();
    await store.put('gone', addCurrent(null, 'gone', makeManagedSecret(), { createdAt: 1 }).versions, null);
    await fetch(`${vault.url}/v1/secret/data/dfns-rotator/.rotator/gone`, { method: 'DELETE', headers: { 'X-Vault-Token': ROOT } });
    await expect(store.get('gone')).rejects.toMatchObject({ code: 'SECRET_CORRUPT', message: expect.stringContaining('vault kv undelete -mount=secret -versions=1 dfns-rotator/.rotator/gone') });
  });

  it('publishes a record that arrives with a previous credential (store copy) as two versions, previous then current', async () => {
    const store = open();
    await store.put('copied', [makeVersion(4, ['previous'], { accessToken: 'tok-prev' }), makeVersion(5, ['current'], { accessToken: 'tok-cur' })], null);
    expect((await consumerRead('dfns-rotator/copied')).body.data).toMatchObject({ data: { accessToken: 'tok-cur' }, metadata: { version: 2 } });
    expect((await consumerRead('dfns-rotator/copied', 1)).body.data.data.accessToken).toBe('tok-prev');
  });
});
