import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { runVaultServerCli } from '../../src/secrets/vault-server/cli.js';
import { startVaultServer, type RunningVault } from '../../src/secrets/vault-server/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The local Vault against Vault's published HTTP API (KV v2 engine, token/AppRole/Kubernetes
 * auth), with plain HTTP as the Vault CLI speaks it: what the adapter's tests rely on the server
 * to do the way Vault does.
 */
const ROOT = 'hvs.root-contract';

describe('local Vault server: the published API', () => {
  let vault: RunningVault;
  const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));

  beforeAll(async () => {
    vault = await startVaultServer({
      rootToken: ROOT,
      clock,
      appRoles: [{ roleName: 'r', roleId: 'rid', secretId: 'sid', ttlSeconds: 60, maxTtlSeconds: 90, policies: [{ path: 'secret/data/app/*', capabilities: ['read'] }] }],
      kubernetesRoles: [{ role: 'k', jwt: 'the.jwt', policies: [{ path: 'secret/*', capabilities: ['read'] }] }],
    });
  });
  afterAll(() => vault.close());

  async function call(method: string, path: string, body?: unknown, token: string | null = ROOT): Promise<{ status: number; body: any }> {
    const res = await fetch(`${vault.url}/v1/${path}`, { method, headers: token ? { 'X-Vault-Token': token } : {}, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it('writes numbered versions, reads the latest or ?version=N, and enforces options.cas with Vault\'s wording', async () => {
    const first = await call('POST', 'secret/data/app/x', { options: { cas: 0 }, data: { a: '1' } });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    expect((await call('POST', 'secret/data/app/x', { data: { a: '2' } })).body.data.version).toBe(2);
    expect(await call('POST', 'secret/data/app/x', { options: { cas: 1 }, data: { a: '3' } })).toEqual({ status: 400, body: { errors: ['check-and-set parameter did not match the current version'] } });
    expect((await call('POST', 'secret/data/app/x', { options: { cas: 0 }, data: { a: '3' } })).status).toBe(400);
    const latest = await call('GET', 'secret/data/app/x');
    expect(latest.body.data).toMatchObject({ data: { a: '2' }, metadata: { version: 2 } });
    expect((await call('GET', 'secret/data/app/x?version=1')).body.data.data).toEqual({ a: '1' });
    expect(await call('GET', 'secret/data/app/missing')).toEqual({ status: 404, body: { errors: [] } });
  });

  it('keeps metadata (custom_metadata, max_versions, cas_required) and lists folders', async () => {
    expect((await call('POST', 'secret/metadata/app/x', { custom_metadata: { owner: 'payments' }, max_versions: 5, cas_required: true })).status).toBe(204);
    const meta = (await call('GET', 'secret/metadata/app/x')).body.data;
    expect(meta).toMatchObject({ current_version: 2, max_versions: 5, cas_required: true, custom_metadata: { owner: 'payments' } });
    expect(Object.keys(meta.versions)).toEqual(['1', '2']);
    expect((await call('POST', 'secret/data/app/x', { data: { a: 'no-cas' } })).body).toEqual({ errors: ['check-and-set parameter required for this call'] });
    await call('POST', 'secret/data/app/sub/y', { data: { b: '1' } });
    expect((await call('GET', 'secret/metadata/app?list=true')).body.data.keys).toEqual(['sub/', 'x']);
    expect((await call('GET', 'secret/metadata/app/sub/?list=true')).body.data.keys).toEqual(['y']);
    expect((await call('GET', 'secret/metadata/nothing/?list=true')).status).toBe(404);
  });

  it('soft-deletes and destroys versions: reads answer 404 with the version metadata', async () => {
    await call('POST', 'secret/data/app/d', { data: { v: '1' } });
    await call('POST', 'secret/data/app/d', { data: { v: '2' } });
    expect((await call('DELETE', 'secret/data/app/d')).status).toBe(204);
    const deleted = await call('GET', 'secret/data/app/d');
    expect(deleted.status).toBe(404);
    expect(deleted.body.data.data).toBeNull();
    expect(deleted.body.data.metadata.version).toBe(2);
    expect(deleted.body.data.metadata.deletion_time).not.toBe('');
    expect((await call('POST', 'secret/destroy/app/d', { versions: [1] })).status).toBe(204);
    expect((await call('GET', 'secret/data/app/d?version=1')).body.data.metadata.destroyed).toBe(true);
  });

  it('answers 403 permission denied without a valid token, and per the token policy', async () => {
    expect(await call('GET', 'secret/data/app/x', undefined, null)).toEqual({ status: 403, body: { errors: ['permission denied'] } });
    expect((await call('GET', 'secret/data/app/x', undefined, 'hvs.unknown')).status).toBe(403);
    const reader = vault.issueToken([{ path: 'secret/data/app/*', capabilities: ['read'] }]).id;
    expect((await call('GET', 'secret/data/app/x', undefined, reader)).status).toBe(200);
    expect((await call('POST', 'secret/data/app/x', { options: { cas: 3 }, data: {} }, reader)).status).toBe(403);
    expect((await call('GET', 'secret/metadata/app?list=true', undefined, reader)).status).toBe(403);
  });

  it('logs in with AppRole and Kubernetes, and renews and looks up its own token within the max TTL', async () => {
    expect((await call('POST', 'auth/approle/login', { role_id: 'rid', secret_id: 'nope' }, null)).body).toEqual({ errors: ['invalid role or secret ID'] });
    const login = await call('POST', 'auth/approle/login', { role_id: 'rid', secret_id: 'sid' }, null);
    expect(login.body.auth).toMatchObject({ lease_duration: 60, renewable: true });
    const token = login.body.auth.client_token as string;
    expect((await call('GET', 'secret/data/app/x', undefined, token)).status).toBe(200);
    clock.advance(50_000);
    expect((await call('GET', 'auth/token/lookup-self', undefined, token)).body.data.ttl).toBe(10);
    expect((await call('POST', 'auth/token/renew-self', {}, token)).body.auth.lease_duration).toBe(40); // capped at 90 s after login
    clock.advance(41_000);
    expect((await call('GET', 'secret/data/app/x', undefined, token)).status).toBe(403);
    expect((await call('POST', 'auth/kubernetes/login', { role: 'k', jwt: 'wrong' }, null)).status).toBe(403);
    expect((await call('POST', 'auth/kubernetes/login', { role: 'k', jwt: 'the.jwt' }, null)).body.auth.client_token).toMatch(/^hvs\./);
  });

  it('keeps namespaces apart (X-Vault-Namespace) and injects faults and CAS conflicts on request', async () => {
    const ns = await fetch(`${vault.url}/v1/secret/data/app/x`, { headers: { 'X-Vault-Token': ROOT, 'X-Vault-Namespace': 'team-a/' } });
    expect(ns.status).toBe(404);
    vault.failNext(1, 503);
    expect((await call('GET', 'secret/data/app/x')).status).toBe(503);
    vault.conflictNext(1);
    const current = (await call('GET', 'secret/metadata/app/x')).body.data.current_version as number;
    expect((await call('POST', 'secret/data/app/x', { options: { cas: current }, data: { a: 'x' } })).body.errors).toEqual(['check-and-set parameter did not match the current version']);
    expect((await call('POST', 'secret/data/app/x', { options: { cas: current }, data: { a: 'x' } })).status).toBe(200);
  });
});

describe('simulator vault flags', () => {
  it('enables AppRole and Kubernetes logins with full access, and generates and prints a root token when none is given', async () => {
    const tmp = await makeTempDir();
    const jwtFile = join(tmp.path, 'sa.jwt');
    writeFileSync(jwtFile, 'pod.jwt.value\n');
    const out: string[] = [];
    const vault = await runVaultServerCli(['--approle', 'role-1:secret-1', '--kubernetes', `rotator:${jwtFile}`], { out: (l) => out.push(l) });
    try {
      expect(out[0]).toMatch(/^Vault \(local, KV v2 at secret\/\) listening on http:\/\/127\.0\.0\.1:\d+$/);
      const root = /^root token: (\S+) /.exec(out[1] ?? '')?.[1];
      expect(root).toBe(vault.rootToken);
      const login = async (path: string, body: unknown) => ((await (await fetch(`${vault.url}/v1/${path}`, { method: 'POST', body: JSON.stringify(body) })).json()) as { auth: { client_token: string } }).auth.client_token;
      for (const token of [await login('auth/approle/login', { role_id: 'role-1', secret_id: 'secret-1' }), await login('auth/kubernetes/login', { role: 'rotator', jwt: 'pod.jwt.value' })]) {
        const put = await fetch(`${vault.url}/v1/secret/data/x`, { method: 'POST', headers: { 'X-Vault-Token': token }, body: JSON.stringify({ data: { a: '1' } }) });
        expect(put.status).toBe(200);
      }
    } finally {
      await vault.close();
      await tmp.remove();
    }
  });
});
