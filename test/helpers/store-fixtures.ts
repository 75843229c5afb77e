import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../../src/clock.js';
import { SecretValue } from '../../src/config/secret-value.js';
import { createSecretStore, type SecretStoreDeps, type SecretStoreSettings } from '../../src/secrets/index.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { generateStoreKey, storeKeyToText } from '../../src/secrets/store-key.js';
import { startVaultServer, type RunningVault } from '../../src/secrets/vault-server/index.js';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { RunningAwsServer } from '../../src/secrets/aws-server/index.js';
import type { ConsumerView } from '../contract/secret-store.contract.js';
import { sdkClientFor } from './aws-server.js';
import { startAwsStore } from './aws-store-fixture.js';

/**
 * One entry per secret-store backend, so the contract suite, the crash tests and the daemon
 * fixture run on every store: `start` brings up the backend (a local server where there is one)
 * and answers the adapter settings plus the environment a daemon process would be given.
 * A new backend adds one entry here.
 */
export interface RunningStore {
  kind: SecretStoreSettings['kind'];
  settings: SecretStoreSettings;
  /** DFNS_ROTATOR_STORE and the backend's own variables, for loadConfig and child processes. */
  env: Record<string, string>;
  open(deps?: SecretStoreDeps): SecretStore;
  /** The backend's consumer view (its own API, no dfns-rotator code), for backends that have one. */
  consumerView?(name: string): Promise<ConsumerView>;
  /** The local Vault, for the vault kind. */
  vault?: RunningVault;
  /** The local Secrets Manager, for the aws-secrets-manager kind. */
  aws?: RunningAwsServer;
  close(): Promise<void>;
}

export interface StoreStartOptions {
  /** A folder this test owns (the file store lives in it). */
  dir: string;
  clock?: Clock;
}

export const STORE_FIXTURES = {
  async file({ dir }: StoreStartOptions): Promise<RunningStore> {
    const key = generateStoreKey();
    const settings: SecretStoreSettings = { kind: 'file', dir: join(dir, 'secrets'), key };
    return {
      kind: 'file',
      settings,
      env: { DFNS_ROTATOR_STORE: 'file', DFNS_ROTATOR_STORE_DIR: settings.dir, DFNS_ROTATOR_STORE_KEY: storeKeyToText(key) },
      open: (deps) => createSecretStore(settings, deps),
      close: async () => undefined,
    };
  },
  async vault({ clock }: StoreStartOptions): Promise<RunningStore> {
    const rootToken = `hvs.root-${randomBytes(12).toString('hex')}`;
    const vault = await startVaultServer({ rootToken, ...(clock ? { clock } : {}) });
    const settings: SecretStoreSettings = {
      kind: 'vault', address: vault.url, mount: 'secret', pathPrefix: 'dfns-rotator/', namespace: null, caFile: null,
      auth: { method: 'token', token: new SecretValue(rootToken, 'test') },
    };
    return {
      kind: 'vault',
      settings,
      env: { DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: vault.url, VAULT_TOKEN: rootToken },
      open: (deps) => createSecretStore(settings, { ...deps, sleep: deps?.sleep ?? (async () => undefined) }),
      vault,
      // What `vault kv get` does: the latest version, and the one before it.
      async consumerView(name) {
        const read = async (version?: number) => {
          const res = await fetch(`${vault.url}/v1/secret/data/dfns-rotator/${name}${version ? `?version=${version}` : ''}`, { headers: { 'X-Vault-Token': rootToken } });
          if (res.status === 404) return null;
          return ((await res.json()) as { data: { data: Record<string, unknown>; metadata: { version: number } } }).data;
        };
        const latest = await read();
        const previous = latest && latest.metadata.version > 1 ? await read(latest.metadata.version - 1) : null;
        return { current: latest?.data ?? null, previous: previous?.data ?? null };
      },
      close: () => vault.close(),
    };
  },
  async 'aws-secrets-manager'({ clock }: StoreStartOptions): Promise<RunningStore> {
    const running = await startAwsStore(clock ? { clock } : {});
    const sm = sdkClientFor(running.aws);
    return {
      ...running,
      // What a consumer's GetSecretValue sees: no stage is AWSCURRENT; AWSPREVIOUS the one before.
      async consumerView(name) {
        const read = async (stage?: string) => {
          try {
            const out = await sm.send(new GetSecretValueCommand({ SecretId: `${running.settings.namePrefix}${name}`, ...(stage ? { VersionStage: stage } : {}) }));
            return JSON.parse(out.SecretString ?? 'null') as Record<string, unknown>;
          } catch (err) {
            if ((err as { name?: string }).name === 'ResourceNotFoundException') return null;
            throw err;
          }
        };
        return { current: await read(), previous: await read('AWSPREVIOUS') };
      },
      close: async () => {
        sm.destroy();
        await running.close();
      },
    };
  },
} satisfies Record<string, (o: StoreStartOptions) => Promise<RunningStore>>;

export type StoreFixtureKind = keyof typeof STORE_FIXTURES;
export const STORE_KINDS = Object.keys(STORE_FIXTURES) as StoreFixtureKind[];
/** The kinds whose running fixture has `consumerView` (known before starting one, so tests can be declared). */
export const CONSUMER_VIEW_KINDS: ReadonlySet<StoreFixtureKind> = new Set<StoreFixtureKind>(['vault', 'aws-secrets-manager']);

export function startStore(kind: StoreFixtureKind, options: StoreStartOptions): Promise<RunningStore> {
  return STORE_FIXTURES[kind](options);
}
