import type { Clock } from '../../clock.js';
import type { RedisClient } from '../../redis/connection.js';

/** How long the scan leaves a secret alone after its rotation failed: a day for people to look. */
export const FAILURE_COOLDOWN_SECONDS = 24 * 3600;

/**
 * The failure cool-down of each secret: set when a rotation fails for good, it stops the scan from
 * queueing the same failing rotation every tick. One key per secret, expiring on its own.
 */
export interface FailureCooldowns {
  /** True while the secret's last failed rotation is within the cool-down. */
  active(secretName: string): Promise<boolean>;
  /** Starts (or restarts) the secret's cool-down. */
  start(secretName: string): Promise<void>;
}

export function redisFailureCooldowns(redis: RedisClient, prefix: string, clock: Clock): FailureCooldowns {
  const key = (secretName: string) => `${prefix}:rotation-cooldown:${secretName}`;
  return {
    active: async (secretName) => (await redis.exists(key(secretName))) === 1,
    start: async (secretName) => {
      await redis.set(key(secretName), String(clock.now()), 'EX', FAILURE_COOLDOWN_SECONDS);
    },
  };
}
