import { statSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { resolvePolicy, type Config } from '../config/index.js';
import { RateLimiter } from '../dfns/index.js';
import type { DfnsPort } from '../dfns/port.js';
import type { Logger } from '../logger.js';
import { createIdentities, type Identities } from '../jobs/identities/identities.js';
import type { InventoryDeps } from '../jobs/scan-read.js';
import { openConfiguredStore, type SecretStore } from '../secrets/index.js';

/**
 * The parts one-shot commands (`plan`, `adopt`) build from the config without Redis: the secret
 * store and the Dfns identities. `createRuntime` would open a Redis connection; these commands
 * must work while Redis is down (a plan is most wanted when the daemon is in trouble).
 */

export function openStore(config: Config, logger: Logger, clock: Clock, options: { createDir: boolean }): SecretStore {
  return openConfiguredStore(config.store, { logger, clock }, options);
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

export interface IdentityOptions {
  config: Config;
  store: Pick<SecretStore, 'get'>;
  clock: Clock;
  logger: Logger;
  /** Progress lines ("listing service accounts…"); a no-op when not interactive. */
  progress: (line: string) => void;
}

export function buildIdentities(options: IdentityOptions): Identities {
  const { config, clock, logger, progress } = options;
  const limiter = new RateLimiter({ requestsPerMinute: config.dfns.requestsPerMinute, clock });
  return withProgress(createIdentities({ config, store: options.store, limiter, clock, logger }), progress);
}

const LISTINGS: Record<string, string> = {
  listServiceAccounts: 'listing service accounts',
  listServiceAccountsDetailed: 'listing service accounts',
  listPersonalAccessTokens: 'listing personal access tokens',
  listPersonalAccessTokensDetailed: 'listing personal access tokens',
};

/** Announces each listing (and the operator's login, which happens on its first call). */
function withProgress(identities: Identities, progress: (line: string) => void): Identities {
  let loggedIn = false;
  const announce = (port: DfnsPort, isOperator: boolean): DfnsPort =>
    new Proxy(port, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (isOperator && !loggedIn) {
            loggedIn = true;
            progress(`logging in as ${target.identity}…`);
          }
          const what = LISTINGS[String(prop)];
          if (what) progress(`${what} as ${target.identity}…`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    operatorUsername: identities.operatorUsername,
    operator: async () => {
      const port = await identities.operator();
      return port && announce(port, true);
    },
    watcher: async () => {
      const port = await identities.watcher();
      return port && announce(port, false);
    },
    asSecret: (secret, label) => announce(identities.asSecret(secret, label), false),
    heldTokens: () => identities.heldTokens(),
  };
}

/** What `plan` reads and classifies a scan with (`readInventory`): no Redis, nothing that queues or records. */
export function offlineInventoryDeps(input: { config: Config; identities: Identities; store: InventoryDeps['store']; clock: Clock; logger: Logger }): InventoryDeps {
  const { config } = input;
  return {
    identities: input.identities,
    store: input.store,
    policyFor: (subject) => resolvePolicy(config, subject),
    clock: input.clock,
    logger: input.logger,
  };
}
