import { hostname } from 'node:os';
import { type Queue, Worker, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { realSleep, systemClock, type Clock, type Sleep } from '../clock.js';
import { resolvePolicy } from '../config/policy.js';
import type { Config } from '../config/types.js';
import type { RequestBudget, RequestObserver, RetryPolicy } from '../dfns/index.js';
import { KeyPool } from '../dfns/key-pool.js';
import type { Logger } from '../logger.js';
import { noMetrics, type Metrics } from '../metrics.js';
import { createNotifier } from '../notify/index.js';
import type { Notifier } from '../notify/types.js';
import { daemonRecords } from '../parts/daemon-records.js';
import { buildIdentities } from '../parts/dfns.js';
import { closeConnection, redisParts } from '../parts/redis.js';
import { sharedBudget } from '../parts/shared-budget.js';
import { openStore } from '../parts/store.js';
import type { RedisClient } from '../redis/connection.js';
import type { SecretStore } from '../secrets/types.js';
import type { AuditLog } from './state/audit.js';
import type { Identities } from './identities/identities.js';
import { QUEUE_NAMES, describeIssues, scanJobSchema, type QueueName } from './queues/job-data.js';
import { createNotifyProcessor, notifyEnqueuer, NOTIFY_LIMITER, type NotifyEnqueuer } from './notify-job.js';
import type { OnceMarkers } from './state/once.js';
import { enqueueRotation } from './queues/rotate-queue.js';
import type { RotationStore } from './state/rotation-store.js';
import { createRetireProcessor } from './retire.js';
import { createRotateProcessor, isStalledFailure, onRotateJobStalled, type RotateDeps } from './rotate.js';
import { runScan, type ScanDeps } from './scan.js';
import type { ScanResults } from './state/scan-results.js';

/**
 * Everything a daemon (or a test) needs, from one config: Redis, queues, the store, the Dfns
 * identities and the shared budget (built in `src/parts/`), the notifier, and the processors. `close()` is
 * idempotent and runs every step even when one fails (BullMQ's pattern): workers first (active
 * jobs finish or are left to resume), then queues, then Redis.
 */
export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  sleep?: Sleep;
  metrics?: Metrics;
  /** Overrides for tests: a store, a notifier, Dfns retry timings, job backoff. */
  store?: SecretStore;
  notifier?: Notifier;
  dfnsRetry?: Partial<RetryPolicy>;
  jobBackoffMs?: number;
  onDfnsRequest?: RequestObserver;
  /** Notification pace (default Slack's one per second). */
  notifyLimiter?: { max: number; duration: number };
  /** Name of this daemon in audit entries; default `worker:<hostname>:<pid>`. */
  actor?: string;
  /** The request budget's clock and sleep (default the real ones; tests of pacing pass fake time). */
  budgetTime?: { clock: Clock; sleep: Sleep };
  /** Test seams of the rotation engine (crash tests). */
  rotationHooks?: RotateDeps['hooks'];
}

export interface Runtime {
  config: Config;
  redis: RedisClient;
  queues: Record<QueueName, Queue>;
  store: SecretStore;
  identities: Identities;
  notify: NotifyEnqueuer;
  rotations: RotationStore;
  audit: AuditLog;
  results: ScanResults;
  markers: OnceMarkers;
  /** The Dfns request budget shared with every daemon on this Redis (metrics read it). */
  budget: RequestBudget;
  scanDeps: ScanDeps;
  logger: Logger;
  clock: Clock;
  /** Starts one worker per queue. Returns them (for readiness checks). */
  startWorkers(options?: WorkerSettings): Worker[];
  workers(): Worker[];
  close(): Promise<void>;
}

export interface WorkerSettings {
  concurrency?: Partial<Record<QueueName, number>>;
  /**
   * How long a job's lock lives without renewal (BullMQ default 30 s). A worker killed mid-job is
   * noticed once its lock expires; the job then moves back to waiting and resumes from its last
   * saved step on another worker.
   */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (BullMQ default 30 s). */
  stalledIntervalMs?: number;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? noMetrics;
  const prefix = config.redis.prefix;
  const redisSide = redisParts(config, { logger });
  const { redis, queues } = redisSide;

  const store = options.store ?? openStore(config, logger, clock);
  // One budget per org across every daemon on this Redis (the limit is Dfns' per org).
  const limiter = sharedBudget(redis, config, options.budgetTime);
  const onRequest: RequestObserver = (event) => {
    metrics.dfnsRequest(event.method, event.route, event.status ?? event.error ?? 'network', event.durationMs / 1000);
    options.onDfnsRequest?.(event);
  };
  const identities = buildIdentities({
    config,
    store,
    budget: limiter,
    clock,
    logger,
    onRequest,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.dfnsRetry ? { retry: options.dfnsRetry } : {}),
  });
  const notifier =
    options.notifier ??
    createNotifier({ logger, clock, slackAllowAnyHost: config.slack.allowAnyHost, ...(config.slack.webhookUrl ? { slackWebhookUrl: config.slack.webhookUrl.reveal() } : {}), ...(config.slack.dashboardUrl ? { dashboardUrl: config.slack.dashboardUrl } : {}) });
  const notify = notifyEnqueuer(queues.notify, options.jobBackoffMs !== undefined ? { backoffDelayMs: options.jobBackoffMs } : {});
  const { rotations, audit, results } = redisSide;
  const { markers, cooldowns } = daemonRecords(redisSide, config, clock);
  const actor = options.actor ?? `worker:${hostname()}:${process.pid}`;

  const scanDeps: ScanDeps = {
    identities,
    store,
    policyFor: (subject) => resolvePolicy(config, subject),
    requestRotation: (r) =>
      enqueueRotation(queues.rotate, r, options.jobBackoffMs !== undefined ? { backoffDelayMs: options.jobBackoffMs } : {}),
    rotations,
    inFailureCooldown: cooldowns.active,
    notify,
    markers,
    results,
    metrics,
    clock,
    logger,
    digest: config.slack.digest,
    warningsPerScan: config.slack.warningsPerScan,
  };

  const sleep: Sleep = options.sleep ?? realSleep;
  const policyFor = scanDeps.policyFor;
  const rotateDeps: RotateDeps = {
    store,
    identities,
    rotations,
    retireQueue: queues.retire,
    rotateQueue: queues.rotate,
    notify,
    audit,
    metrics,
    policyFor,
    observation: (kind, id) => results.observation(kind, id),
    // One pair ready per rotation slot: RSA generation (0.6 s for 3072 bits) leaves the rotation's path.
    keys: new KeyPool({ size: config.rotation.concurrency }),
    config,
    setCooldown: cooldowns.start,
    clock,
    sleep,
    logger,
    actor,
    ...(options.rotationHooks ? { hooks: options.rotationHooks } : {}),
  };

  const processors: Record<QueueName, Processor> = {
    rotate: createRotateProcessor(rotateDeps),
    retire: createRetireProcessor({ ...rotateDeps, config }),
    scan: async (job: Job) => {
      const parsed = scanJobSchema.safeParse(job.data ?? {});
      if (!parsed.success) throw new UnrecoverableError(`invalid scan job data: ${describeIssues(parsed.error)}`);
      return runScan(scanDeps, parsed.data);
    },
    notify: createNotifyProcessor({ notifier, queue: queues.notify, logger, metrics }),
  };

  let running: Worker[] = [];
  let closing: Promise<void> | undefined;

  return {
    config,
    redis,
    queues,
    store,
    identities,
    notify,
    rotations,
    audit,
    results,
    markers,
    budget: limiter,
    scanDeps,
    logger,
    clock,
    startWorkers(startOptions = {}) {
      for (const name of QUEUE_NAMES) {
        const processor = processors[name];
        const worker = new Worker(name, processor, {
          connection: redis,
          prefix,
          // Rotations and retirements wait on Dfns (and on the shared budget), so several run at
          // once; scans and notifications stay one at a time (Slack paces at one a second anyway).
          concurrency: startOptions.concurrency?.[name] ?? (name === 'rotate' || name === 'retire' ? config.rotation.concurrency : 1),
          // A job may be interrupted twice (two crashes, two deploys) before BullMQ fails it; even
          // then the rotation record survives and the next trigger resumes it.
          maxStalledCount: 2,
          ...(startOptions.lockDurationMs !== undefined ? { lockDuration: startOptions.lockDurationMs } : {}),
          ...(startOptions.stalledIntervalMs !== undefined ? { stalledInterval: startOptions.stalledIntervalMs } : {}),
          ...(name === 'notify' ? { limiter: options.notifyLimiter ?? NOTIFY_LIMITER } : {}),
        });
        worker.on('error', (err) => logger.warn({ queue: name, err: err.message }, 'worker error'));
        worker.on('active', (job) => logger.debug({ queue: name, jobId: job.id, attempt: job.attemptsMade + 1 }, 'job started'));
        worker.on('completed', (job) => logger.debug({ queue: name, jobId: job.id }, 'job completed'));
        worker.on('failed', (job, err) => logger.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
        if (name === 'rotate') {
          worker.on('failed', (job, err) => {
            if (job && isStalledFailure(err)) void onRotateJobStalled(rotateDeps, job).catch((e: unknown) => logger.warn({ jobId: job.id, err: (e as Error).message }, 'could not report a stalled rotation'));
          });
        }
        running.push(worker);
      }
      logger.debug({ actor, queues: running.map((w) => w.name) }, 'workers started');
      return running;
    },
    workers: () => running,
    close() {
      return (closing ??= (async () => {
        const steps: [string, () => Promise<unknown>][] = [
          ...running.map((w) => [`worker ${w.name}`, () => w.close()] as [string, () => Promise<unknown>]),
          ...Object.values(queues).map((q) => [`queue ${q.name}`, () => q.close()] as [string, () => Promise<unknown>]),
          ['store', async () => store.close?.()],
          ['redis', () => closeConnection(redis)],
        ];
        for (const [what, step] of steps) {
          try {
            await step();
          } catch (err) {
            logger.warn({ what, err: (err as Error).message }, 'close step failed; going on');
          }
        }
        running = [];
      })());
    },
  };
}
