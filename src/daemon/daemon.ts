import { Registry } from 'prom-client';
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { describeError } from '../errors.js';
import { createRuntime, type Runtime, type RuntimeOptions, type WorkerSettings } from '../jobs/runtime.js';
import { queueUnfinishedRotations } from '../jobs/pending-adoption.js';
import { readStoreTolerantly } from '../jobs/effects/store-read.js';
import { catchUpScan, scheduleInterval, startSchedule, type Schedule } from '../jobs/queues/schedule.js';
import type { Logger } from '../logger.js';
import { noMetrics, type Metrics } from '../metrics.js';
import { createHttpServer, createPrometheusMetrics, pingRedis, queuesPaused, readinessFromChecks, workersRunning, type HttpServer } from '../server/index.js';
import { dashboardWiring } from './dashboard-wiring.js';
import { identityReadiness, redisIdentityHealth, type IdentityHealth } from './identity-health.js';
import { IDENTITY_RETRY_MS, retryDegradedIdentities } from './identity-retry.js';
import { probeRedis, runStartupChecks, StartupError, type StartupReport } from './startup-checks.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Runtime overrides (the demo and tests: clock, sleep, notifier, backoffs). */
  runtime?: Omit<Partial<RuntimeOptions>, 'config' | 'logger' | 'metrics'>;
  workers?: WorkerSettings;
  /** Run the cron schedule (default true); tests drive ticks by hand. */
  schedule?: boolean;
  /** Queue a catch-up scan at start when the last one is older than an interval (default true). */
  catchUp?: boolean;
  /** How long active jobs get to finish on shutdown before they are left to resume elsewhere. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Passed to the dashboard (the demo serves plain HTTP on loopback). */
  server?: { port?: number; secureCookies?: boolean; trustProxy?: boolean | number | string };
  collectProcessMetrics?: boolean;
  /** Bound of each start-up check (default 15 s). */
  startupTimeoutMs?: number;
  /** First wait before retrying an identity that was degraded at start (default 30 s, doubling). */
  identityRetryMs?: number;
}

export interface Daemon {
  runtime: Runtime;
  server: HttpServer | null;
  schedule: Schedule | null;
  registry: Registry;
  startup: StartupReport;
  /** Each Dfns identity's state (degraded ones are retried in the background). */
  identityHealth: IdentityHealth;
  /** Graceful and idempotent: readiness off, no new ticks, active jobs finish (or are left to resume), then connections close. */
  stop(reason?: string): Promise<void>;
}

/** Forwards to the real metrics once they exist (they need the queues, which the runtime creates). */
function lateMetrics(): { metrics: Metrics; set(m: Metrics): void } {
  let target: Metrics = noMetrics;
  return {
    set: (m) => {
      target = m;
    },
    metrics: {
      credentialsScanned: (...a) => target.credentialsScanned(...a),
      rotationFinished: (...a) => target.rotationFinished(...a),
      rotationStep: (...a) => target.rotationStep(...a),
      dfnsRequest: (...a) => target.dfnsRequest(...a),
      notification: (...a) => target.notification(...a),
      storeUnreadable: (...a) => target.storeUnreadable(...a),
    },
  };
}

/**
 * `dfns-rotator start`: the runtime, its workers, the cron schedule and the dashboard, after
 * start-up checks. Anything thrown here (StartupError, ConfigError) means the daemon did not start
 * and nothing is left running.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.runtime?.clock ?? systemClock;
  const registry = new Registry();
  await probeRedis(config.redis);
  const late = lateMetrics();
  const runtime = createRuntime({ ...options.runtime, config, logger, metrics: late.metrics });
  // Process metrics once, under their standard names (process_*, nodejs_*), as dashboards expect.
  late.set(createPrometheusMetrics(registry, { queues: Object.values(runtime.queues), rotations: runtime.rotations, budget: runtime.budget, credentialMetrics: config.server.credentialMetrics, defaultMetrics: options.collectProcessMetrics ?? true }));

  let startup: StartupReport;
  try {
    startup = await runStartupChecks(runtime, logger, options.startupTimeoutMs !== undefined ? { timeoutMs: options.startupTimeoutMs } : {});
  } catch (err) {
    await runtime.close();
    throw err;
  }

  const last = await runtime.results.load().catch(() => null);
  if (last) {
    late.metrics.credentialsScanned(last.items, last.summary.finishedAt);
    late.metrics.storeUnreadable(last.summary.damaged?.length ?? 0);
  }

  const identityHealth = redisIdentityHealth(runtime.redis, config.redis.prefix, clock, logger);
  for (const r of startup.identities) await identityHealth.set({ identity: r.identity, state: r.ok ? 'ok' : r.degraded ? 'degraded' : 'failed', detail: r.detail });
  const stopRetries = retryDegradedIdentities(runtime, startup.identities, identityHealth, logger, {
    firstDelayMs: options.identityRetryMs ?? IDENTITY_RETRY_MS,
    ...(options.startupTimeoutMs !== undefined ? { timeoutMs: options.startupTimeoutMs } : {}),
  });

  runtime.startWorkers(options.workers);
  // The store is the durable truth: rotations it shows under way (their record lost with Redis, or
  // their job given up) are resumed now rather than at the next scan.
  // (Read tolerantly: a damaged file elsewhere must not keep these from resuming.)
  await readStoreTolerantly(runtime.store)
    .then(({ summaries }) => queueUnfinishedRotations(runtime.scanDeps, summaries, 'start'))
    .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'could not look for unfinished rotations at start; the next scan does'));
  let server: HttpServer | null = null;
  let schedule: Schedule | null = null;
  try {
    if (config.server.enabled) {
      const port = options.server?.port ?? config.server.port;
      server = await createHttpServer({
        host: config.server.host,
        port,
        auth: config.server.auth,
        queues: Object.values(runtime.queues),
        readiness: readinessFromChecks({
          redis: () => pingRedis(runtime.redis),
          workers: () => workersRunning(runtime.workers()),
          queues: () => queuesPaused(Object.values(runtime.queues)),
          // A cheap read through the store's own code path (its folder, its key id check).
          store: async () => {
            await runtime.store.get('readyz-probe');
            return { ok: true };
          },
          dfns: () => identityReadiness(identityHealth),
        }),
        loadInventory: (page) => runtime.results.page(page),
        loadRecentRotations: () => runtime.rotations.recent(50),
        registry,
        logger,
        clock,
        secureCookies: options.server?.secureCookies ?? config.server.secureCookies,
        trustProxy: options.server?.trustProxy ?? config.server.trustProxy,
        ...(await dashboardWiring(runtime, config)),
      }).catch((err: unknown) => {
        throw listenError(err, config.server.host, port);
      });
    }
    if (options.schedule ?? true) {
      schedule = startSchedule({ expression: config.schedule.scan, timezone: config.schedule.timezone, queue: runtime.queues.scan, logger });
    }
    if (options.catchUp ?? true) {
      await catchUpScan({
        queue: runtime.queues.scan,
        lastSuccessAt: await runtime.results.lastSuccessAt(),
        interval: scheduleInterval(config.schedule.scan, config.schedule.timezone),
        clock,
        logger,
      });
    }
  } catch (err) {
    stopRetries();
    await schedule?.stop().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await runtime.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  return {
    runtime,
    server,
    schedule,
    registry,
    startup,
    identityHealth,
    stop(reason = 'stop requested') {
      stopping ??= (async () => {
        stopRetries();
        logger.info({ reason }, 'shutting down: finishing active jobs');
        server?.setShuttingDown();
        await schedule?.stop().catch((err: unknown) => logger.warn({ err: describeError(err) }, 'stopping the schedule failed'));
        const workers = runtime.workers();
        // Pause first: no new job starts, and pause() resolves once the active ones finish. (A
        // graceful close() would do the same but cannot be turned into a forced one later: BullMQ
        // returns the pending graceful close to a second call.)
        let timer: NodeJS.Timeout | undefined;
        const drained = Promise.all(workers.map((w) => w.pause().catch(() => undefined))).then(() => 'drained' as const);
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), shutdownTimeoutMs);
        });
        const outcome = await Promise.race([drained, deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          // Each rotation step is saved as it completes, so an interrupted job resumes from its last
          // step on the next worker (once its lock expires): nothing is half-written.
          logger.warn({ shutdownTimeoutMs }, 'active jobs did not finish in time; leaving them to resume on the next start');
        }
        await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
        await server?.close().catch(() => undefined);
        await runtime.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/** A dashboard that cannot listen, as a start-up error naming the setting to change. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new StartupError(`the dashboard cannot listen on ${host}:${port}: the port is in use by another process; stop it, or choose another port with DFNS_ROTATOR_PORT (server.port)`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new StartupError(`the dashboard cannot listen on ${host}:${port}: no such address on this machine; fix DFNS_ROTATOR_HOST (server.host)`);
  }
  if (code === 'EACCES') {
    return new StartupError(`the dashboard cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges); choose another port with DFNS_ROTATOR_PORT (server.port)`);
  }
  return err;
}
