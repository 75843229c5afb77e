import { resolve } from 'node:path';
import type { RawConfig, SecretRef } from './schema.js';
import { SecretValue } from './secret-value.js';
import { DEFAULTS, type StoreConfig, type VaultAuthConfig } from './types.js';

/** What `buildStoreConfig` needs from the loader: where problems go and how references resolve. */
export interface StoreConfigContext {
  problems: string[];
  cwd: string;
  resolveSecret(ref: SecretRef, path: string): SecretValue | null;
  /** Validates a file store key; a problem text or null. */
  checkStoreKey(value: SecretValue): string | null;
  /** ` (set PATH in the config file or ENV)` for a message. */
  hint(path: string): string;
}

type RawStore = NonNullable<RawConfig['store']>;

/**
 * `store.*` → one `StoreConfig`. Settings of the other kinds are ignored (a `VAULT_ADDR` in the
 * environment of a file-store daemon is not an error), and only the chosen kind's are checked.
 */
export function buildStoreConfig(raw: RawStore | undefined, ctx: StoreConfigContext): StoreConfig {
  const store = raw ?? {};
  const kind = store.kind ?? 'file';
  if (kind === 'vault') return buildVault(store, ctx);
  if (kind === 'aws-secrets-manager') return buildAws(store, ctx);
  return buildFile(store, ctx);
}

/** Stands in where a problem has been recorded: loadConfig throws before anything reads it. */
function missingSecret(): SecretValue {
  return new SecretValue('', 'missing');
}

function buildFile(store: RawStore, ctx: StoreConfigContext): StoreConfig {
  let key: SecretValue | null = null;
  if (!store.key) ctx.problems.push(`store.key: required, the file store is encrypted${ctx.hint('store.key')}`);
  else {
    key = ctx.resolveSecret(store.key, 'store.key');
    const problem = key && ctx.checkStoreKey(key);
    if (key && problem) {
      ctx.problems.push(`store.key (${key.source}): ${problem}`);
      key = null;
    }
  }
  return { kind: 'file', dir: store.dir ?? resolve(ctx.cwd, DEFAULTS.storeDir), key: key ?? missingSecret() };
}

function buildVault(store: RawStore, ctx: StoreConfigContext): StoreConfig {
  const v = store.vault ?? {};
  const p = ctx.problems;
  const address = (v.address ?? '').replace(/\/+$/, '');
  if (!address) p.push(`store.vault.address: required with store.kind vault${ctx.hint('store.vault.address')}`);
  else if (!/^https?:\/\/[^\s/]+/.test(address)) p.push(`store.vault.address: ${JSON.stringify(address)} is not an http(s) URL like https://vault.internal:8200`);
  const caFile = v.caFile ? resolve(ctx.cwd, v.caFile) : null;
  return {
    kind: 'vault',
    address,
    mount: (v.mount ?? DEFAULTS.vaultMount).replace(/^\/+|\/+$/g, ''),
    pathPrefix: (v.pathPrefix ?? DEFAULTS.vaultPathPrefix).replace(/^\/+/, ''),
    namespace: v.namespace ? v.namespace : null,
    caFile,
    auth: buildVaultAuth(v.auth ?? {}, ctx),
  };
}

function buildVaultAuth(a: NonNullable<NonNullable<RawStore['vault']>['auth']>, ctx: StoreConfigContext): VaultAuthConfig {
  const p = ctx.problems;
  // Without a method, the settings given choose it: a role id is AppRole, a role is Kubernetes.
  const method = a.method ?? (a.roleId ? 'approle' : a.role ? 'kubernetes' : 'token');
  if (method === 'approle') {
    if (!a.roleId) p.push(`store.vault.auth.roleId: required with the approle auth method${ctx.hint('store.vault.auth.roleId')}`);
    if (!a.secretId) p.push(`store.vault.auth.secretId: required with the approle auth method${ctx.hint('store.vault.auth.secretId')}`);
    const secretId = a.secretId ? ctx.resolveSecret(a.secretId, 'store.vault.auth.secretId') : null;
    return { method, roleId: a.roleId ?? '', secretId: secretId ?? missingSecret(), mountPath: a.mountPath ?? DEFAULTS.vaultAppRoleMount };
  }
  if (method === 'kubernetes') {
    if (!a.role) p.push(`store.vault.auth.role: required with the kubernetes auth method${ctx.hint('store.vault.auth.role')}`);
    return { method, role: a.role ?? '', jwtFile: a.jwtFile ?? DEFAULTS.vaultKubernetesJwtFile, mountPath: a.mountPath ?? DEFAULTS.vaultKubernetesMount };
  }
  if (!a.token) p.push(`store.vault.auth.token: required with the token auth method${ctx.hint('store.vault.auth.token')}, or choose store.vault.auth.method approle or kubernetes`);
  const token = a.token ? ctx.resolveSecret(a.token, 'store.vault.auth.token') : null;
  return { method: 'token', token: token ?? missingSecret() };
}

function buildAws(store: RawStore, ctx: StoreConfigContext): StoreConfig {
  const a = store.aws ?? {};
  if (!a.region) ctx.problems.push(`store.aws.region: required with store.kind aws-secrets-manager${ctx.hint('store.aws.region')}`);
  if (a.endpoint && !/^https?:\/\/[^\s/]+/.test(a.endpoint)) ctx.problems.push(`store.aws.endpoint: ${JSON.stringify(a.endpoint)} is not an http(s) URL`);
  return {
    kind: 'aws-secrets-manager',
    region: a.region ?? '',
    endpoint: a.endpoint ? a.endpoint.replace(/\/+$/, '') : null,
    kmsKeyId: a.kmsKeyId ?? null,
    namePrefix: a.namePrefix ?? DEFAULTS.awsNamePrefix,
  };
}
