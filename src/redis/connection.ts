import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/types.js';

export type RedisClient = Redis | Cluster;

/**
 * One ioredis client from the configured URL, Sentinel or Cluster. BullMQ workers block on
 * Redis, so `maxRetriesPerRequest` must be null (BullMQ refuses otherwise).
 */
export function createRedis(settings: RedisSettings, extra: RedisOptions = {}): RedisClient {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra };
  switch (settings.kind) {
    case 'url':
      return new Redis(settings.url, base);
    case 'sentinel':
      return new Redis({
        ...base,
        sentinels: settings.sentinels,
        name: settings.name,
        ...(settings.password ? { password: settings.password.reveal(), sentinelPassword: settings.password.reveal() } : {}),
      });
    case 'cluster':
      return new Cluster(settings.nodes, {
        redisOptions: { ...base, ...(settings.password ? { password: settings.password.reveal() } : {}) },
      });
  }
}

/** Where Redis is, for logs: the URL with its password masked, or the Sentinel/Cluster nodes. */
/** What to change when Redis cannot be reached, naming the variable or fields that chose it. */
export function redisFix(settings: RedisSettings): string {
  switch (settings.kind) {
    case 'url':
      return 'start it, or point the worker at a running Redis with REDIS_URL (redis.url in the config file)';
    case 'sentinel':
      return 'start it, or fix redis.sentinel.sentinels and redis.sentinel.name in the config file';
    case 'cluster':
      return 'start it, or fix redis.cluster.nodes in the config file';
  }
}

export function describeRedis(settings: RedisSettings): string {
  switch (settings.kind) {
    case 'url': {
      try {
        const u = new URL(settings.url);
        if (u.password) u.password = '***';
        return u.toString();
      } catch {
        return 'redis (unparseable url)';
      }
    }
    case 'sentinel':
      return `sentinel ${settings.name} via ${settings.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
    case 'cluster':
      return `cluster ${settings.nodes.map((s) => `${s.host}:${s.port}`).join(',')}`;
  }
}

export type EvictionCheck =
  | { ok: true; policy: 'noeviction' }
  | { ok: false; policy: string; message: string }
  | { ok: false; policy: null; message: string };

/**
 * BullMQ loses jobs if Redis evicts keys: `maxmemory-policy` must be `noeviction`. Read from INFO
 * (CONFIG is often disabled on managed Redis).
 */
export async function checkEvictionPolicy(client: RedisClient): Promise<EvictionCheck> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    const info = await node.info('memory');
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
    if (policy === null) {
      return { ok: false, policy: null, message: 'could not read maxmemory_policy from INFO memory; make sure Redis runs with maxmemory-policy noeviction' };
    }
    if (policy !== 'noeviction') {
      return {
        ok: false,
        policy,
        message: `Redis maxmemory-policy is "${policy}": under memory pressure Redis will evict BullMQ keys and rotations can be lost. Set maxmemory-policy noeviction`,
      };
    }
  }
  return { ok: true, policy: 'noeviction' };
}
