import { statSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../logger.js';
import { openConfiguredStore, type SecretStoreDeps } from '../secrets/index.js';
import type { SecretStore } from '../secrets/types.js';

/** The configured secret store, for the daemon and every command: the only place one is opened. */
export function openStore(
  config: Config,
  logger: Logger,
  clock: Clock,
  options: { createDir?: boolean; deps?: Pick<SecretStoreDeps, 'awsCredentials'> } = {},
): SecretStore {
  return openConfiguredStore(config.store, { logger, clock, ...options.deps }, options.createDir === undefined ? {} : { createDir: options.createDir });
}

/** For a read-only command: a store folder that does not exist yet is an empty store (and a note), not an error or a new folder. */
export function openStoreReadOnly(config: Config, logger: Logger, clock: Clock): { store: Pick<SecretStore, 'list' | 'listReadable' | 'get' | 'close'>; note: string | null } {
  const dir = config.store.kind === 'file' ? config.store.dir : null;
  if (dir !== null && !(statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
    return {
      store: { list: async () => [], get: async () => null },
      note: `the secret store folder ${dir} does not exist: no credential is managed yet (is the volume mounted?)`,
    };
  }
  return { store: openStore(config, logger, clock, { createDir: false }), note: null };
}
