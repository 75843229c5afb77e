import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { Clock } from '../../src/clock.js';
import { resolvePolicy } from '../../src/config/index.js';
import type { DashboardAuth } from '../../src/config/types.js';
import { SecretValue } from '../../src/config/secret-value.js';
import { buildInventory, indexStore } from '../../src/jobs/core/inventory.js';
import { QUEUE_NAMES, type QueueName } from '../../src/jobs/queues/job-data.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { redisScanResults, type StoredScan } from '../../src/jobs/state/scan-results.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { CredentialState, InventoryItem } from '../../src/model.js';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/server/index.js';
import type { Readiness } from '../../src/server/readiness.js';
import { makePat, makeServiceAccount, makeStored } from '../fixtures/builders.js';
import { TEST_POLICY_CONFIG } from '../fixtures/policy-config.js';
import { deletePrefix, newRedis, redisUrl, testPrefix } from './redis.js';

export const DASHBOARD_TOKEN = 'dashboard-token-0123456789abcdef';

export function tokenAuth(token = DASHBOARD_TOKEN): DashboardAuth {
  return { kind: 'token', token: new SecretValue(token, 'test') };
}

const policyConfig = TEST_POLICY_CONFIG;

/** The credential names `seededScan` contains, for assertions. */
export const SEEDED_NAMES = ['payments-api', 'legacy-reporting', 'ci-deployer', 'watcher', '<script>alert(1)</script>'] as const;

/**
 * A last scan as the scan job would store it, built with the real inventory code from Dfns-like
 * records: a managed SA near expiry, an unmanaged SA with an estimated expiry, a PAT, the worker's
 * own identity and a credential with a hostile name.
 */
export function seededScan(now: number): StoredScan {
  const listing = {
    serviceAccounts: [
      makeServiceAccount({ id: 'us-payments', name: 'payments-api', now, ageDays: 355 }),
      makeServiceAccount({ id: 'us-legacy', name: 'legacy-reporting', now, ageDays: 712 }),
      makeServiceAccount({ id: 'us-watcher', name: 'watcher', now, ageDays: 20 }),
      makeServiceAccount({ id: 'us-hostile', name: '<script>alert(1)</script>', now, ageDays: 100 }),
    ],
    pats: [{ owner: 'operator', records: [makePat({ id: 'to-ci', name: 'ci-deployer', now, owner: 'us-operator', ageDays: 30 })] }],
  };
  const store = indexStore([
    makeStored({ secretName: 'payments/api', credentialId: 'us-payments', now, expiresInDays: 10 }),
    makeStored({ secretName: 'ci/deployer', credentialId: 'to-ci', now, expiresInDays: 335, kind: 'pat' }),
  ]);
  const items = buildInventory({
    listing,
    store,
    heldTokens: [{ credentialId: 'us-watcher', expiresAt: now + 345 * 86_400_000, label: 'watcher token' }],
    policyFor: (s) => resolvePolicy(policyConfig, s),
    operatorUsername: 'operator',
    now,
  });
  return storedScanOf(items, now);
}

export function storedScanOf(items: InventoryItem[], now: number, errors: StoredScan['summary']['errors'] = []): StoredScan {
  const urgency: Record<CredentialState, number> = { expired: 0, rotate: 1, warn: 2, unknown: 3, ok: 4, inactive: 5 };
  const sorted = [...items].sort((a, b) => urgency[a.state] - urgency[b.state] || (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity));
  const counts: Record<CredentialState, number> = { ok: 0, warn: 0, rotate: 0, expired: 0, inactive: 0, unknown: 0 };
  for (const item of items) counts[item.state] += 1;
  return {
    summary: { scanId: '01JSCAN0000000000000000000', startedAt: now - 1_500, finishedAt: now, counts, total: items.length, rotationsQueued: counts.rotate, notificationsQueued: counts.warn, errors },
    items: sorted,
  };
}

export interface DashboardFixture {
  server: HttpServer;
  url: string;
  prefix: string;
  queues: Record<QueueName, Queue>;
  registry: Registry;
  close(): Promise<void>;
}

export interface DashboardFixtureOptions {
  /** Saved in Redis as the last scan; null: no scan yet. Default: `seededScan(now)`. */
  scan?: StoredScan | null;
  auth?: DashboardAuth | null;
  clock?: Clock;
  now?: number;
  readiness?: Readiness;
  rotations?: RotationRecord[];
  logger?: Logger;
  extra?: Partial<HttpServerOptions>;
}

/**
 * The server as the daemon runs it, on real BullMQ queues and a stored scan in the test Redis,
 * under a fresh prefix. A test against a real daemon replaces this with the daemon's own server.
 */
export async function startDashboardFixture(options: DashboardFixtureOptions = {}): Promise<DashboardFixture> {
  const prefix = testPrefix();
  const redis = newRedis();
  const now = options.now ?? options.clock?.now() ?? Date.now();
  const results = redisScanResults(redis, prefix);
  const scan = options.scan === undefined ? seededScan(now) : options.scan;
  if (scan) await results.save(scan);
  const connection = { url: redisUrl() };
  const queues = Object.fromEntries(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix })])) as Record<QueueName, Queue>;
  const registry = new Registry();
  const server = await createHttpServer({
    host: '127.0.0.1',
    port: 0,
    auth: options.auth === undefined ? tokenAuth() : options.auth,
    ...(options.auth === null ? { insecureNoAuth: true } : {}),
    queues: Object.values(queues),
    readiness: options.readiness ?? (async () => ({ redis: { ok: true }, workers: { ok: true }, store: { ok: true } })),
    loadInventory: (page) => results.page(page),
    ...(options.rotations ? { loadRecentRotations: async () => options.rotations! } : {}),
    registry,
    logger: options.logger ?? silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.extra,
  });
  return {
    server,
    url: server.url,
    prefix,
    queues,
    registry,
    async close() {
      await server.close();
      for (const queue of Object.values(queues)) await queue.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
