import { Queue, QueueEvents } from 'bullmq';
import { Cluster } from 'ioredis';
import type { Config, RedisSettings } from '../config/types.js';
import type { Logger } from '../logger.js';
import { createRedis, describeRedis, redisFix, type RedisClient } from '../redis/connection.js';
import { redisAuditLog, type AuditLog } from '../jobs/state/audit.js';
import { QUEUE_NAMES, type QueueName } from '../jobs/queues/job-data.js';
import { redisRotationStore, type RotationStore } from '../jobs/state/rotation-store.js';
import { redisScanResults, type ScanResults } from '../jobs/state/scan-results.js';

/**
 * The Redis side, for the daemon and for one-shot commands (`rotate`, `history`, `status`,
 * `retire`): the connection, the queues and the Redis-backed records commands read. Each member is
 * built on first use, so a command that reads the audit log opens no queue; the daemon's own
 * records are in `daemon-records.ts`. The only place that creates a Redis client (the probe, the
 * connection, a blocking one for queue events).
 */
export interface RedisParts {
  redis: RedisClient;
  /** Where Redis is, password masked. */
  where: string;
  readonly queues: Record<QueueName, Queue>;
  readonly rotations: RotationStore;
  readonly audit: AuditLog;
  readonly results: ScanResults;
  /** Closes the queues built so far, then the connection. Idempotent. */
  close(): Promise<void>;
}

export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * The daemon's Redis: the connection is made in the background (ioredis retries for ever, as
 * BullMQ needs); the daemon has probed Redis before (`probeClient`).
 */
export function redisParts(config: Config, deps: { logger: Logger }): RedisParts {
  const redis = createRedis(config.redis);
  watchConnection(redis, config.redis, deps.logger);
  return partsOver(redis, config, deps);
}

/**
 * A one-shot command's Redis. Null when Redis cannot be reached; the reason has then been given
 * to `err` (host and port, never a password). Opening fails fast with one clear line: ioredis
 * would otherwise retry for ever (BullMQ needs it to), and a command would hang.
 */
export async function connectRedisParts(
  config: Config,
  io: { err: (line: string) => void; logger: Logger },
  options: { timeoutMs?: number } = {},
): Promise<RedisParts | null> {
  const where = describeRedis(config.redis);
  const redis = createRedis(config.redis);
  try {
    await firstConnection(redis, options.timeoutMs ?? REDIS_CONNECT_TIMEOUT_MS);
  } catch (err) {
    redis.disconnect();
    const reason = scrub((err as Error).message || (err as { code?: string }).code || 'connection failed', passwordsOf(config.redis));
    io.err(`cannot reach Redis at ${where} (${reason}); is it running? ${redisFix(config.redis)}`);
    return null;
  }
  watchConnection(redis, config.redis, io.logger);
  return partsOver(redis, config, io);
}

/** A client that connects once, without retries or an offline queue: the daemon's start-up probe. */
export function probeClient(settings: RedisSettings, timeoutMs: number): RedisClient {
  return createRedis(settings, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
}

/** QUIT waits for an answer: on a connection that is down it would wait forever, so that one is dropped. */
export async function closeConnection(redis: RedisClient): Promise<void> {
  await (redis.status === 'ready' ? redis.quit().catch(() => redis.disconnect()) : redis.disconnect());
}

export interface QueueEventsPart {
  events: QueueEvents;
  close(): Promise<void>;
}

/**
 * A queue's events, ready. QueueEvents blocks its connection on XREAD (BullMQ uses a client it
 * is given as is), so it gets a connection of its own.
 */
export async function openQueueEvents(parts: RedisParts, name: QueueName): Promise<QueueEventsPart> {
  const connection: RedisClient = parts.redis instanceof Cluster ? parts.redis.duplicate() : parts.redis.duplicate();
  connection.on('error', () => undefined); // reported through the main connection
  const events = new QueueEvents(name, { connection, prefix: parts.queues[name].opts.prefix });
  await events.waitUntilReady();
  return {
    events,
    async close() {
      await events.close().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

function partsOver(redis: RedisClient, config: Config, deps: { logger: Logger }): RedisParts {
  const prefix = config.redis.prefix;
  const { logger } = deps;
  let queues: Record<QueueName, Queue> | undefined;
  const makeQueues = (): Record<QueueName, Queue> => {
    const made = Object.fromEntries(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection: redis, prefix })])) as Record<QueueName, Queue>;
    for (const q of Object.values(made)) q.on('error', (err) => logger.warn({ queue: q.name, err: err.message }, 'queue error'));
    return made;
  };
  const rotations = once(() => redisRotationStore(redis, prefix));
  const audit = once(() => redisAuditLog(redis, prefix, config.audit.file));
  const results = once(() => redisScanResults(redis, prefix));
  let closing: Promise<void> | undefined;
  return {
    redis,
    where: describeRedis(config.redis),
    get queues() {
      return (queues ??= makeQueues());
    },
    get rotations() {
      return rotations();
    },
    get audit() {
      return audit();
    },
    get results() {
      return results();
    },
    close() {
      return (closing ??= (async () => {
        for (const q of Object.values(queues ?? {})) await q.close().catch(() => undefined);
        await closeConnection(redis);
      })());
    },
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** Connection errors are logged (ioredis retries on its own), with any password scrubbed. */
function watchConnection(redis: RedisClient, settings: RedisSettings, logger: Logger): void {
  redis.on('error', (err: Error) => logger.warn({ err: scrub(err.message, passwordsOf(settings)) }, 'redis connection error'));
}

/** Passwords the settings hold, to scrub from error messages (ioredis' own never contain them; this is belt and braces). */
function passwordsOf(settings: RedisSettings): string[] {
  if (settings.kind !== 'url') return settings.password ? [settings.password.reveal()] : [];
  try {
    const u = new URL(settings.url);
    return [u.password, decodeURIComponent(u.password)].filter((p) => p.length > 0);
  } catch {
    return [];
  }
}

function scrub(message: string, secrets: readonly string[]): string {
  return secrets.reduce((text, s) => text.split(s).join('***'), message);
}

/** Waits for the first `ready`, or fails on the first connection error or after `timeoutMs`. */
function firstConnection(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
  });
}
