/**
 * `dfns-rotator/client`: what a service needs to follow rotations without a restart. Kept light:
 * it loads the official `@dfns/sdk`, the store adapters and nothing of the daemon (no BullMQ,
 * Redis, Express).
 */
export {
  rotatingDfnsClient,
  RotatingDfnsClient,
  ConsumerCredentialError,
  DEFAULT_REFRESH_INTERVAL_MS,
  type CredentialInfo,
  type RefreshTrigger,
  type RotatedEvent,
  type RotatingDfnsClientOptions,
} from './rotating-client.js';
export { KeySigner, type KeySignerOptions } from '../dfns/key-signer.js';
export { parseCredentialJson, toCredentialJson, CREDENTIAL_FORMAT, type CredentialJson } from '../secrets/credential-json.js';
export type { SecretStore } from '../secrets/types.js';
export type { StoreBlock } from '../config/load-store.js';
