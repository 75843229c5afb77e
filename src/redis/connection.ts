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

/** Whether Redis keeps its data across a restart. `ok` null: it would not say (CONFIG disabled). */
export interface PersistenceCheck {
  ok: boolean | null;
  aof: boolean | null;
  rdb: boolean | null;
  message: string;
}

/**
 * Redis with neither AOF nor RDB snapshots loses every queued rotation, retire job and rotation
 * record on a restart. Nothing is lost for good (the store's pending versions are adopted), but a
 * retire scheduled for later is, so warn at start. Reads `INFO persistence` (aof_enabled) and
 * `CONFIG GET save` (RDB schedule); managed services that disable CONFIG leave RDB unknown.
 */
export async function checkPersistence(client: RedisClient): Promise<PersistenceCheck> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let aof: boolean | null = true;
  let rdb: boolean | null = true;
  for (const node of nodes) {
    const info = await node.info('persistence');
    const enabled = /^aof_enabled:(\d)/m.exec(info)?.[1];
    aof = enabled === undefined ? null : aof === true && enabled === '1';
    const save = await node.config('GET', 'save').then((r) => (r as string[])[1] ?? null, () => null);
    rdb = save === null ? null : rdb === true && save.trim() !== '';
  }
  if (aof === false && rdb === false) {
    return { ok: false, aof, rdb, message: 'Redis runs with neither AOF nor RDB persistence: a Redis restart loses every queued rotation and scheduled retirement. Set appendonly yes (or an RDB save schedule)' };
  }
  if (aof !== true && rdb !== true) return { ok: null, aof, rdb, message: 'Redis would not say whether it persists data; make sure it runs with appendonly yes' };
  return { ok: true, aof, rdb, message: `persistence: ${[aof ? 'AOF' : null, rdb ? 'RDB' : null].filter(Boolean).join(' + ')}` };
}
