/**
 * `dfns-rotator`: the library side of the package, for services and tools around the daemon. The
 * daemon itself is the `dfns-rotator` command (dist/cli.js); nothing here starts it or loads its
 * queues. Services that only follow rotations import `dfns-rotator/client`.
 */
export * from './client/index.js';
export {
  createSecretStore,
  openConfiguredStore,
  storeSettingsFromConfig,
  describeStore,
  parseStoreKey,
  generateStoreKey,
  storeKeyToText,
  SECRET_NAME_PATTERN,
  STAGES,
  type SecretStoreSettings,
  type FileStoreSettings,
  type VaultStoreSettings,
  type AwsSecretsManagerStoreSettings,
  type ManagedSecret,
  type SecretRecord,
  type SecretVersion,
  type Stage,
} from './secrets/index.js';
export { loadStoreConfig, type StoreBlock } from './config/load-store.js';
export { renderCredential, CONSUMER_FORMATS, DFNS_ENV_NAMES, type ConsumerFormat } from './secrets/consumer-formats.js';
