import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { describeStore } from '../../src/secrets/index.js';

const operatorKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const base = {
  DFNS_ORG_ID: 'or-test',
  DFNS_OPERATOR_USERNAME: 'rotator@acme.test',
  DFNS_OPERATOR_CRED_ID: 'cred-1',
  DFNS_OPERATOR_PRIVATE_KEY_FILE: '/keys/op.pem',
};
const files: Record<string, string> = { '/keys/op.pem': operatorKey, '/run/secret-id': 'c0ffee-secret-id\n' };

function load(env: Record<string, string>) {
  return loadConfig({
    env: { ...base, ...env },
    cwd: '/work',
    readFile: (p) => {
      if (files[p] === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return files[p]!;
    },
  });
}

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('store.kind', () => {
  it('vault from the standard Vault environment, with documented defaults', () => {
    const c = load({ DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: 'https://vault.acme.test:8200/', VAULT_TOKEN: 'hvs.not-a-real-token', VAULT_NAMESPACE: 'admin' });
    expect(c.store).toMatchObject({ kind: 'vault', address: 'https://vault.acme.test:8200', mount: 'secret', pathPrefix: 'dfns-rotator/', namespace: 'admin', caFile: null, auth: { method: 'token' } });
    expect(c.store.kind === 'vault' && c.store.auth.method === 'token' && c.store.auth.token.reveal()).toBe('hvs.not-a-real-token');
    expect(JSON.stringify(c) + inspect(c, { depth: 10 })).not.toContain('hvs.not-a-real-token');
    expect(describeStore(c.store)).toBe('vault https://vault.acme.test:8200/v1/secret/data/dfns-rotator/… (namespace admin)');
  });

  it('chooses the Vault auth method from the settings given', () => {
    const approle = load({ DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: 'http://127.0.0.1:8200', DFNS_ROTATOR_VAULT_ROLE_ID: 'role-1', DFNS_ROTATOR_VAULT_SECRET_ID_FILE: '/run/secret-id' });
    expect(approle.store).toMatchObject({ auth: { method: 'approle', roleId: 'role-1', mountPath: 'approle' } });
    const k8s = load({ DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: 'http://127.0.0.1:8200', DFNS_ROTATOR_VAULT_ROLE: 'rotator' });
    expect(k8s.store).toMatchObject({ auth: { method: 'kubernetes', role: 'rotator', jwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', mountPath: 'kubernetes' } });
  });

  it('names what a vault store lacks, and where to set it', () => {
    expect(problems({ DFNS_ROTATOR_STORE: 'vault' })).toEqual([
      expect.stringMatching(/^store\.vault\.address: required with store\.kind vault.*VAULT_ADDR/),
      expect.stringMatching(/^store\.vault\.auth\.token: required with the token auth method.*VAULT_TOKEN/),
    ]);
    expect(problems({ DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: 'vault:8200', DFNS_ROTATOR_VAULT_AUTH: 'approle' })).toEqual([
      expect.stringMatching(/^store\.vault\.address: "vault:8200" is not an http\(s\) URL/),
      expect.stringMatching(/^store\.vault\.auth\.roleId: required.*DFNS_ROTATOR_VAULT_ROLE_ID/),
      expect.stringMatching(/^store\.vault\.auth\.secretId: required.*DFNS_ROTATOR_VAULT_SECRET_ID_FILE/),
    ]);
  });

  it('aws-secrets-manager from the standard AWS environment; no file store key needed', () => {
    const c = load({ DFNS_ROTATOR_STORE: 'aws-secrets-manager', AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566/' });
    expect(c.store).toEqual({ kind: 'aws-secrets-manager', region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566', kmsKeyId: null, namePrefix: 'dfns-rotator/' });
    expect(problems({ DFNS_ROTATOR_STORE: 'aws-secrets-manager' })).toEqual([expect.stringMatching(/^store\.aws\.region: required.*AWS_REGION/)]);
  });

  it('ignores another kind’s settings: a VAULT_ADDR beside a file store is not an error', () => {
    const c = load({ DFNS_ROTATOR_STORE_KEY: randomBytes(32).toString('base64'), VAULT_ADDR: 'not a url' });
    expect(c.store.kind).toBe('file');
    expect(problems({ DFNS_ROTATOR_STORE: 'dynamo' })[0]).toMatch(/store\.kind/);
  });
});

describe('store.kind from command-line flags (store copy --to-store)', () => {
  it('overrides the environment and keeps every other setting', () => {
    const c = loadConfig({
      env: { ...base, DFNS_ROTATOR_STORE: 'file', VAULT_ADDR: 'https://vault.acme.test:8200', VAULT_TOKEN: 'hvs.x' },
      flags: { store: { kind: 'vault' } },
      cwd: '/work',
      readFile: (p) => files[p]!,
    });
    expect(c.store.kind).toBe('vault');
    expect(c.dfns.orgId).toBe('or-test');
    expect(c.operator?.username).toBe('rotator@acme.test');
  });
});
