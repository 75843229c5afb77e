import { describeError, RotatorError } from '../errors.js';
import type { Runtime } from '../jobs/runtime.js';
import type { Logger } from '../logger.js';
import type { RedisSettings } from '../config/types.js';
import { checkEvictionPolicy, createRedis, describeRedis, redisFix } from '../redis/connection.js';

/** The daemon cannot work at all (Redis unreachable, store unreadable, no identity can list). */
export class StartupError extends RotatorError {
  constructor(message: string) {
    super('STARTUP', message);
  }
}

export interface IdentityReport {
  identity: string;
  ok: boolean;
  /** What it can see, or why it failed: "12 service accounts, 2 PATs". */
  detail: string;
}

export interface StartupReport {
  redis: string;
  evictionPolicy: string | null;
  evictionOk: boolean;
  secrets: number;
  identities: IdentityReport[];
}

/**
 * Connects once, without retries, before anything else is built: BullMQ's own connections retry
 * forever, which would turn "Redis is down" into a daemon that hangs at start.
 */
export async function probeRedis(settings: RedisSettings, timeoutMs = 10_000): Promise<void> {
  const where = describeRedis(settings);
  const client = createRedis(settings, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    await withTimeout(`Redis at ${where}`, timeoutMs, client.connect().then(() => client.ping()));
  } catch (err) {
    throw new StartupError(`cannot reach Redis at ${where}: ${describeError(lastError ?? err)}; ${redisFix(settings)}`);
  } finally {
    client.disconnect();
  }
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupError(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the daemon checks before it starts serving: Redis reachable (and not evicting keys), the
 * store readable with this key, and each Dfns identity able to log in and list. Problems that
 * stop everything throw StartupError; the rest are reported and logged loudly.
 */
export async function runStartupChecks(runtime: Runtime, logger: Logger, options: { timeoutMs?: number } = {}): Promise<StartupReport> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const where = describeRedis(runtime.config.redis);
  try {
    await withTimeout(`Redis at ${where}`, timeoutMs, runtime.redis.ping());
  } catch (err) {
    throw new StartupError(`cannot reach Redis at ${where}: ${describeError(err)}; ${redisFix(runtime.config.redis)}`);
  }
  const eviction = await checkEvictionPolicy(runtime.redis).catch((err: unknown) => ({ ok: false as const, policy: null, message: `could not read maxmemory-policy: ${describeError(err)}` }));
  if (!eviction.ok) {
    logger.warn({ redis: where, policy: eviction.policy }, `!!! ${eviction.message} !!!`);
  }

  let secrets: number;
  try {
    secrets = (await runtime.store.list()).length;
  } catch (err) {
    throw new StartupError(`cannot read the secret store (${runtime.store.description}): ${describeError(err)}`);
  }

  const identities: IdentityReport[] = [];
  const operator = await runtime.identities.operator().catch((err: unknown) => {
    identities.push({ identity: `operator ${runtime.config.operator?.username ?? ''}`.trim(), ok: false, detail: describeError(err) });
    return null;
  });
  if (operator) {
    try {
      const [sas, pats] = await withTimeout('operator', timeoutMs, Promise.all([operator.listServiceAccounts(), operator.listPersonalAccessTokens()]));
      identities.push({ identity: operator.identity, ok: true, detail: `logged in; sees ${sas.length} service accounts and ${pats.length} of its own PATs` });
    } catch (err) {
      identities.push({ identity: operator.identity, ok: false, detail: describeError(err) });
    }
  }
  const watcher = await runtime.identities.watcher().catch((err: unknown) => {
    identities.push({ identity: 'watcher', ok: false, detail: describeError(err) });
    return null;
  });
  if (watcher) {
    try {
      const sas = await withTimeout('watcher', timeoutMs, watcher.listServiceAccounts());
      identities.push({ identity: watcher.identity, ok: true, detail: `sees ${sas.length} service accounts` });
    } catch (err) {
      identities.push({ identity: watcher.identity, ok: false, detail: describeError(err) });
    }
  }
  for (const r of identities) {
    if (r.ok) logger.info({ identity: r.identity }, `Dfns identity ready: ${r.detail}`);
    else logger.error({ identity: r.identity }, `Dfns identity failed: ${r.detail}`);
  }
  if (identities.length > 0 && identities.every((r) => !r.ok)) {
    throw new StartupError(`no Dfns identity works: ${identities.map((r) => `${r.identity}: ${r.detail}`).join('; ')}`);
  }
  return { redis: where, evictionPolicy: eviction.policy, evictionOk: eviction.ok, secrets, identities };
}
