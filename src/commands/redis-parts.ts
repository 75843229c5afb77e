import { Queue } from 'bullmq';
import type { Config, RedisSettings } from '../config/types.js';
import type { Logger } from '../logger.js';
import { createRedis, describeRedis, redisFix, type RedisClient } from '../redis/connection.js';
import { redisAuditLog, type AuditLog } from '../jobs/state/audit.js';
import { QUEUE_NAMES, type QueueName } from '../jobs/queues/job-data.js';
import { redisRotationStore, type RotationStore } from '../jobs/state/rotation-store.js';
import { redisScanResults, type ScanResults } from '../jobs/state/scan-results.js';

/**
 * The Redis side of the daemon for one-shot commands (`rotate`, `history`, `status`): the queues,
 * rotation records, audit log and scan results, without workers, the store or Dfns identities.
 * Opening fails fast with one clear line when Redis cannot be reached: ioredis would otherwise
 * retry for ever (BullMQ needs it to), and a command would hang.
 */
export interface RedisParts {
  redis: RedisClient;
  queues: Record<QueueName, Queue>;
  rotations: RotationStore;
  audit: AuditLog;
  results: ScanResults;
  /** Where Redis is, password masked. */
  where: string;
  close(): Promise<void>;
}

export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

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

/** Null when Redis cannot be reached; the reason has then been given to `err` (host and port, never a password). */
export async function openRedisParts(
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
  redis.on('error', (err: Error) => io.logger.warn({ err: scrub(err.message, passwordsOf(config.redis)) }, 'redis connection error'));
  const prefix = config.redis.prefix;
  const queues = Object.fromEntries(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection: redis, prefix })])) as Record<QueueName, Queue>;
  for (const q of Object.values(queues)) q.on('error', (err) => io.logger.warn({ queue: q.name, err: err.message }, 'queue error'));
  let closing: Promise<void> | undefined;
  return {
    redis,
    queues,
    rotations: redisRotationStore(redis, prefix),
    audit: redisAuditLog(redis, prefix, config.audit.file),
    results: redisScanResults(redis, prefix),
    where,
    close() {
      return (closing ??= (async () => {
        for (const q of Object.values(queues)) await q.close().catch(() => undefined);
        await redis.quit().catch(() => redis.disconnect());
      })());
    },
  };
}
