import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/connection.js';

/**
 * How each Dfns identity fared at its last check, shared through Redis so `status` (another
 * process) can show it. `degraded`: Dfns was reachable but would not answer in time (rate
 * limited, 5xx, slow): the daemon runs and keeps retrying in the background. `failed`: refused
 * for good (bad key, no permission) until the configuration is fixed.
 */
export type IdentityState = 'ok' | 'degraded' | 'failed';

export interface IdentityHealthEntry {
  identity: string;
  state: IdentityState;
  /** For people; never a secret. */
  detail: string;
  /** Epoch ms since when the identity is in this state. */
  at: number;
}

export function identityHealthKey(prefix: string): string {
  return `${prefix}:identity-health`;
}

export interface IdentityHealth {
  set(entry: Omit<IdentityHealthEntry, 'at'>): Promise<void>;
  /** This process's latest view, for /readyz. */
  current(): IdentityHealthEntry[];
}

export function redisIdentityHealth(redis: RedisClient, prefix: string, clock: Clock, logger: Logger): IdentityHealth {
  const entries = new Map<string, IdentityHealthEntry>();
  return {
    async set(entry) {
      // `at` says since when the identity is in this state: a retry that fails the same way keeps it.
      const previous = entries.get(entry.identity);
      const full = { ...entry, at: previous?.state === entry.state ? previous.at : clock.now() };
      entries.set(entry.identity, full);
      await redis.hset(identityHealthKey(prefix), entry.identity, JSON.stringify(full)).catch((err: Error) => logger.warn({ err: err.message }, 'could not record identity health in Redis'));
    },
    current: () => [...entries.values()],
  };
}

export async function readIdentityHealth(redis: RedisClient, prefix: string): Promise<IdentityHealthEntry[]> {
  const all = await redis.hgetall(identityHealthKey(prefix));
  return Object.values(all).flatMap((text) => {
    try {
      return [JSON.parse(text) as IdentityHealthEntry];
    } catch {
      return [];
    }
  });
}

/** The `/readyz` check: ready while Dfns is merely degraded (the daemon serves and retries); the detail says so. */
export function identityReadiness(health: IdentityHealth): { ok: boolean; detail: string } {
  const entries = health.current();
  if (entries.length === 0) return { ok: true, detail: 'no Dfns identity configured' };
  const bad = entries.filter((e) => e.state !== 'ok');
  if (bad.length === 0) return { ok: true, detail: entries.map((e) => `${e.identity}: ok`).join('; ') };
  return {
    ok: bad.every((e) => e.state === 'degraded') || bad.length < entries.length,
    detail: bad.map((e) => `${e.identity}: ${e.state} since ${new Date(e.at).toISOString()} (${e.detail})${e.state === 'degraded' ? ', retrying in the background' : ''}`).join('; '),
  };
}
