import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import { FileSecretStore } from './file-store.js';
import { AwsSecretsManagerStore } from './aws/aws-store.js';
import { VaultSecretStore } from './vault/vault-store.js';
import type { SecretStore } from './types.js';
import type { AwsStoreConfig, StoreConfig, VaultStoreConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { parseStoreKey } from './store-key.js';

export type { ManagedSecret, SecretRecord, SecretStore, SecretSummary, SecretVersion, Stage, VersionMetadata } from './types.js';
export { SECRET_NAME_PATTERN, STAGES } from './types.js';
export * from './errors.js';
export * from './stages.js';
export { generateStoreKey, parseStoreKey, storeKeyId, storeKeyToText } from './store-key.js';
export { FileSecretStore, type FileSecretStoreOptions } from './file-store.js';
export { AwsSecretsManagerStore, type AwsSecretsManagerStoreOptions } from './aws/aws-store.js';
export { VaultSecretStore, type VaultSecretStoreOptions } from './vault/vault-store.js';

export interface FileStoreSettings {
  kind: 'file';
  dir: string;
  /** 32 bytes, from `parseStoreKey`. */
  key: Buffer;
  /** Default true; see `FileSecretStoreOptions.createDir`. */
  createDir?: boolean;
}

/** Vault KV v2 as configured (secrets stay wrapped until the adapter logs in). */
export type VaultStoreSettings = VaultStoreConfig;

/** AWS Secrets Manager as configured; credentials come from the AWS SDK's default chain. */
export type AwsSecretsManagerStoreSettings = AwsStoreConfig;

/** One member per backend: adding one makes `FACTORIES` fail to compile until its factory is wired. */
export type SecretStoreSettings = FileStoreSettings | VaultStoreSettings | AwsSecretsManagerStoreSettings;

export type StoreKind = SecretStoreSettings['kind'];

/** What adapters may use besides their settings. */
export interface SecretStoreDeps {
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
  /**
   * Static AWS keys for the aws-secrets-manager store: only the demo and tests (talking to the
   * local Secrets Manager) pass them; otherwise the AWS SDK's default chain finds credentials.
   */
  awsCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

type Factory<K extends StoreKind> = (settings: Extract<SecretStoreSettings, { kind: K }>, deps: SecretStoreDeps) => SecretStore;

const FACTORIES: { [K in StoreKind]: Factory<K> } = {
  file: (settings, deps) => new FileSecretStore({ dir: settings.dir, key: settings.key, createDir: settings.createDir, ...deps }),
  vault: (settings, deps) => new VaultSecretStore({ ...settings, ...deps }),
  'aws-secrets-manager': (settings, deps) =>
    new AwsSecretsManagerStore({
      region: settings.region,
      endpoint: settings.endpoint,
      kmsKeyId: settings.kmsKeyId,
      namePrefix: settings.namePrefix,
      ...(deps.awsCredentials ? { credentials: deps.awsCredentials } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    }),
};

export function createSecretStore(settings: SecretStoreSettings, deps: SecretStoreDeps = {}): SecretStore {
  const factory = FACTORIES[settings.kind] as Factory<StoreKind>;
  return factory(settings, deps);
}

/** The one place a configured store becomes adapter settings (the file store's key is parsed here). */
export function storeSettingsFromConfig(store: StoreConfig, options: { createDir?: boolean } = {}): SecretStoreSettings {
  switch (store.kind) {
    case 'file':
      return { kind: 'file', dir: store.dir, key: parseStoreKey(store.key.reveal(), store.key.source), ...(options.createDir === undefined ? {} : { createDir: options.createDir }) };
    case 'vault':
      return { ...store };
    case 'aws-secrets-manager':
      return { ...store };
  }
}

/** `createSecretStore(storeSettingsFromConfig(store))`: what the daemon and the commands open. */
export function openConfiguredStore(store: StoreConfig, deps: SecretStoreDeps = {}, options: { createDir?: boolean } = {}): SecretStore {
  return createSecretStore(storeSettingsFromConfig(store, options), deps);
}

/** Where a configured store is, for people (no secrets): `file /path (encrypted)`, `vault https://…/v1/secret/dfns-rotator/`. */
export function describeStore(store: StoreConfig): string {
  switch (store.kind) {
    case 'file':
      return `file ${store.dir} (encrypted)`;
    case 'vault':
      return `vault ${store.address}/v1/${store.mount}/data/${store.pathPrefix}…${store.namespace ? ` (namespace ${store.namespace})` : ''}`;
    case 'aws-secrets-manager':
      return `aws-secrets-manager ${store.region}${store.endpoint ? ` at ${store.endpoint}` : ''}, names ${store.namePrefix}…`;
  }
}

/** The folder of a file store; throws for another kind (for the demo, benchmarks and tests, which run on files). */
export function fileStoreDir(store: StoreConfig): string {
  if (store.kind !== 'file') throw new ConfigError([`store.kind: expected the file store here, got ${store.kind}`]);
  return store.dir;
}
