import { describeError, errorCode, RotatorError } from '../errors.js';
import type { Runtime } from '../jobs/runtime.js';
import { readStoreTolerantly } from '../jobs/effects/store-read.js';
import type { Logger } from '../logger.js';
import type { RedisSettings } from '../config/types.js';
import { checkEvictionPolicy, checkPersistence, describeRedis, redisFix, type PersistenceCheck } from '../redis/connection.js';
import { probeClient } from '../parts/redis.js';

/** The daemon cannot work at all (Redis unreachable, store unreadable, no identity can list). */
export class StartupError extends RotatorError {
  constructor(message: string) {
    super('STARTUP', message);
  }
}

export interface IdentityReport {
  identity: string;
  role: 'operator' | 'watcher';
  ok: boolean;
  /** Not ok, but only because Dfns would not answer in time (rate limited, 5xx, slow): the daemon starts and retries. */
  degraded?: boolean;
  /** What it can see, or why it failed: "12 service accounts, 2 PATs". */
  detail: string;
}

export interface StartupReport {
  redis: string;
  evictionPolicy: string | null;
  evictionOk: boolean;
  /** Null when Redis would not say (CONFIG disabled, as on some managed services). */
  persistence: PersistenceCheck;
  secrets: number;
  identities: IdentityReport[];
}

/**
 * Connects once, without retries, before anything else is built: BullMQ's own connections retry
 * forever, which would turn "Redis is down" into a daemon that hangs at start.
 */
export async function probeRedis(settings: RedisSettings, timeoutMs = 10_000): Promise<void> {
  const where = describeRedis(settings);
  const client = probeClient(settings, timeoutMs);
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

/** A check got no answer in time; the work may still be under way (e.g. waiting out a 429's Retry-After). */
export class StartupTimeoutError extends StartupError {}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined); // a late failure after the timeout is the caller's no longer
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupTimeoutError(`${what}: no answer within ${ms} ms`)), ms);
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
  const persistence = await checkPersistence(runtime.redis).catch((err: unknown): PersistenceCheck => ({ ok: null, aof: null, rdb: null, message: `could not read Redis' persistence settings: ${describeError(err)}` }));
  if (persistence.ok === false) logger.warn({ redis: where }, `!!! ${persistence.message} !!!`);

  let secrets: number;
  try {
    // One damaged file must not stop the daemon (every other credential would go unwatched): the
    // scan reports it as an inventory item in state error and alerts once. A wrong key fails here.
    const { summaries, damaged } = await readStoreTolerantly(runtime.store);
    secrets = summaries.length;
    for (const d of damaged) logger.error({ secretName: d.secretName, where: d.where }, `!!! unreadable secret in the store: ${d.problem}; ${d.action} !!!`);
  } catch (err) {
    throw new StartupError(`cannot read the secret store (${runtime.store.description}): ${describeError(err)}`);
  }

  const identities = (await Promise.all([checkIdentity(runtime, 'operator', timeoutMs), checkIdentity(runtime, 'watcher', timeoutMs)])).filter((r): r is IdentityReport => r !== null);
  for (const r of identities) {
    if (r.ok) logger.info({ identity: r.identity }, `Dfns identity ready: ${r.detail}`);
    else if (r.degraded) logger.warn({ identity: r.identity }, `Dfns identity degraded (starting anyway, retrying in the background): ${r.detail}`);
    else logger.error({ identity: r.identity }, `Dfns identity failed: ${r.detail}`);
  }
  if (identities.length > 0 && identities.every((r) => !r.ok && !r.degraded)) {
    throw new StartupError(`no Dfns identity works: ${identities.map((r) => `${r.identity}: ${r.detail}`).join('; ')}`);
  }
  return { redis: where, evictionPolicy: eviction.policy, evictionOk: eviction.ok, persistence, secrets, identities };
}

/** Dfns would answer later: a rate limit, a server error, or no answer in time. */
function isTransient(err: unknown): boolean {
  const code = errorCode(err);
  return err instanceof StartupTimeoutError || code === 'DFNS_RATE_LIMITED' || code === 'DFNS_SERVER' || code === 'DFNS_TIMEOUT';
}

/** Can this identity log in and list? Null when it is not configured. */
export async function checkIdentity(runtime: Pick<Runtime, 'identities' | 'config'>, which: 'operator' | 'watcher', timeoutMs: number): Promise<IdentityReport | null> {
  const label = which === 'operator' ? `operator ${runtime.config.operator?.username ?? ''}`.trim() : 'watcher';
  const failed = (identity: string, err: unknown): IdentityReport => ({ identity, role: which, ok: false, ...(isTransient(err) ? { degraded: true } : {}), detail: describeError(err) });
  let port;
  try {
    port = await withTimeout(label, timeoutMs, which === 'operator' ? runtime.identities.operator() : runtime.identities.watcher());
  } catch (err) {
    return failed(label, err);
  }
  if (!port) return null;
  try {
    if (which === 'operator') {
      const [sas, pats] = await withTimeout(label, timeoutMs, Promise.all([port.listServiceAccounts(), port.listPersonalAccessTokens()]));
      return { identity: port.identity, role: which, ok: true, detail: `logged in; sees ${sas.length} service accounts and ${pats.length} of its own PATs` };
    }
    const sas = await withTimeout(label, timeoutMs, port.listServiceAccounts());
    return { identity: port.identity, role: which, ok: true, detail: `sees ${sas.length} service accounts` };
  } catch (err) {
    return failed(port.identity, err);
  }
}
