import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import { FileSecretStore } from './file-store.js';
import type { SecretStore } from './types.js';

export type { ManagedSecret, SecretRecord, SecretStore, SecretSummary, SecretVersion, Stage, VersionMetadata } from './types.js';
export { SECRET_NAME_PATTERN, STAGES } from './types.js';
export * from './errors.js';
export * from './stages.js';
export { generateStoreKey, parseStoreKey, storeKeyId, storeKeyToText } from './store-key.js';
export { FileSecretStore, type FileSecretStoreOptions } from './file-store.js';

export interface FileStoreSettings {
  kind: 'file';
  dir: string;
  /** 32 bytes, from `parseStoreKey`. */
  key: Buffer;
  /** Default true; see `FileSecretStoreOptions.createDir`. */
  createDir?: boolean;
}

/**
 * One member per backend. Adding `{ kind: 'vault', … }` or `{ kind: 'aws', … }` here makes
 * `FACTORIES` fail to compile until its factory is wired.
 */
export type SecretStoreSettings = FileStoreSettings;

export type StoreKind = SecretStoreSettings['kind'];

/** What adapters may use besides their settings. */
export interface SecretStoreDeps {
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
}

type Factory<K extends StoreKind> = (settings: Extract<SecretStoreSettings, { kind: K }>, deps: SecretStoreDeps) => SecretStore;

const FACTORIES: { [K in StoreKind]: Factory<K> } = {
  file: (settings, deps) => new FileSecretStore({ dir: settings.dir, key: settings.key, createDir: settings.createDir, ...deps }),
};

export function createSecretStore(settings: SecretStoreSettings, deps: SecretStoreDeps = {}): SecretStore {
  const factory = FACTORIES[settings.kind] as Factory<StoreKind>;
  return factory(settings, deps);
}
