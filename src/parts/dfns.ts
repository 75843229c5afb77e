import type { Clock, Sleep } from '../clock.js';
import type { Config } from '../config/types.js';
import { RateLimiter, type RequestBudget, type RequestObserver, type RetryPolicy } from '../dfns/index.js';
import type { Logger } from '../logger.js';
import { createIdentities, type Identities } from '../jobs/identities/identities.js';
import type { SecretStore } from '../secrets/types.js';
import { withProgress } from './identity-progress.js';

/**
 * The Dfns identities (operator, watcher, a secret acting as itself), for the daemon and for the
 * commands that call Dfns (`plan`, `adopt`, `demo`): the only place they are built. Every port
 * shares one request budget: the daemon passes the Redis-shared one (`sharedBudget`); a one-shot
 * command paces its own requests.
 */
export interface IdentityOptions {
  config: Config;
  store: Pick<SecretStore, 'get'>;
  clock: Clock;
  logger: Logger;
  /** Default: this process's own pacing at `dfns.requestsPerMinute` (a one-shot command). */
  budget?: RequestBudget;
  /** Progress lines ("listing service accounts…"), for an interactive command. */
  progress?: (line: string) => void;
  onRequest?: RequestObserver;
  sleep?: Sleep;
  /** Tests shorten backoff. */
  retry?: Partial<RetryPolicy>;
}

export function buildIdentities(options: IdentityOptions): Identities {
  const { config, clock, logger } = options;
  const limiter = options.budget ?? new RateLimiter({ requestsPerMinute: config.dfns.requestsPerMinute, clock });
  const identities = createIdentities({
    config,
    store: options.store,
    limiter,
    clock,
    logger,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return options.progress ? withProgress(identities, options.progress) : identities;
}
