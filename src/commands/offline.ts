import type { Clock } from '../clock.js';
import { resolvePolicy, type Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Identities } from '../jobs/identities/identities.js';
import type { InventoryDeps } from '../jobs/scan-read.js';

/**
 * `plan`'s scan deps, without Redis: `plan` must work while Redis is down (a plan is most wanted
 * when the daemon is in trouble). The store and the identities come from `src/parts/`.
 */

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
