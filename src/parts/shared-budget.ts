import { realSleep, systemClock, type Clock, type Sleep } from '../clock.js';
import type { Config } from '../config/types.js';
import { SharedRequestBudget } from '../redis/shared-budget.js';
import type { RedisClient } from '../redis/connection.js';

/**
 * The daemon's Dfns request budget: one per org across every daemon on this Redis (the limit is
 * Dfns' per org). It keeps wall-clock time, as Dfns counts its window in, whatever clock the rest
 * of the daemon is given; tests of pacing pass fake time.
 */
export function sharedBudget(redis: RedisClient, config: Config, time: { clock: Clock; sleep: Sleep } = { clock: systemClock, sleep: realSleep }): SharedRequestBudget {
  return new SharedRequestBudget({ redis, prefix: config.redis.prefix, orgId: config.dfns.orgId, requestsPerMinute: config.dfns.requestsPerMinute, ...time });
}
