import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/config/secret-value.js';
import { createSecretStore } from '../../src/secrets/index.js';
import { addCurrent } from '../../src/secrets/stages.js';
import { startVaultServer, type RunningVault } from '../../src/secrets/vault-server/index.js';
import { makeManagedSecret } from '../fixtures/managed-secret.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** store.vault.caFile (VAULT_CACERT): Vault behind a private CA, over https. */
describe('Vault store over TLS with a private CA', () => {
  const ROOT = 'hvs.tls-root';
  let tmp: { path: string; remove(): Promise<void> };
  let vault: RunningVault;
  let caFile: string;

  beforeAll(async () => {
    tmp = await makeTempDir();
    const f = (n: string) => join(tmp.path, n);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=dfns-rotator test CA');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('vault.key'), '-out', f('vault.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', f('vault.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('vault.pem'), '-days', '2', '-extfile', f('san.ext'));
    caFile = f('ca.pem');
    vault = await startVaultServer({ rootToken: ROOT, tls: { key: readFileSync(f('vault.key'), 'utf8'), cert: readFileSync(f('vault.pem'), 'utf8') } });
  });
  afterAll(async () => {
    await vault.close();
    await tmp.remove();
  });

  const open = (ca: string | null) =>
    createSecretStore(
      { kind: 'vault', address: vault.url, mount: 'secret', pathPrefix: 'dfns-rotator/', namespace: null, caFile: ca, auth: { method: 'token', token: new SecretValue(ROOT, 'test') } },
      { sleep: async () => undefined },
    );

  it('trusts the CA from caFile', async () => {
    expect(vault.url).toMatch(/^https:/);
    const store = open(caFile);
    await store.put('tls', addCurrent(null, 'tls', makeManagedSecret(), { createdAt: 1 }).versions, null);
    expect((await store.get('tls'))?.revision).toBe(1);
  });

  it('refuses a certificate it cannot verify, saying so', async () => {
    await expect(open(null).get('tls')).rejects.toMatchObject({ code: 'VAULT_UNREACHABLE', message: expect.stringMatching(/certificate/i) });
  });

  it('names store.vault.caFile when the CA file cannot be read', () => {
    expect(() => open(join(tmp.path, 'missing.pem'))).toThrow(/store\.vault\.caFile: cannot read .*missing\.pem \(ENOENT\)/);
  });
});
