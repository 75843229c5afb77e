import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { redisFailureCooldowns, type FailureCooldowns } from '../jobs/state/cooldowns.js';
import { onceMarkers, type OnceMarkers } from '../jobs/state/once.js';
import type { RedisParts } from './redis.js';

/** The Redis-backed records only the daemon's jobs use (no command reads them), over its Redis parts. */
export interface DaemonRecords {
  /** Send-once markers (a warning once per credential and threshold). */
  markers: OnceMarkers;
  /** A secret's failure cool-down. */
  cooldowns: FailureCooldowns;
}

export function daemonRecords(parts: Pick<RedisParts, 'redis'>, config: Config, clock: Clock): DaemonRecords {
  const prefix = config.redis.prefix;
  return { markers: onceMarkers(parts.redis, prefix), cooldowns: redisFailureCooldowns(parts.redis, prefix, clock) };
}
