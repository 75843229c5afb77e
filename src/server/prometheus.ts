import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestBudget } from '../dfns/request-budget.js';
import type { RequestEvent, RequestObserver } from '../dfns/transport.js';
import type { Metrics } from '../metrics.js';
import type { CredentialState, InventoryItem } from '../model.js';
import type { RotationStore } from '../jobs/state/rotation-store.js';
import { registerQueueMetrics, type CountableQueue } from './queue-metrics.js';
import { registerRetireMetrics } from './retire-metrics.js';

export interface PrometheusOptions {
  /** BullMQ queues whose job counts are read at scrape time. */
  queues?: readonly CountableQueue[];
  /** Bound on each queue's count read during a scrape. */
  queueCountTimeoutMs?: number;
  /** prom-client's process metrics (CPU, memory, event loop, GC); on unless turned off. */
  defaultMetrics?: boolean;
  /** The Dfns request budget, read at scrape time. */
  budget?: Pick<RequestBudget, 'stats'>;
  /** Which credentials get their own expiry series (default `alerting`). */
  credentialMetrics?: 'alerting' | 'all';
  /** Rotation records, for the retire-time and last-use gauges of replaced credentials (read at scrape time). */
  rotations?: Pick<RotationStore, 'recent'>;
}

const URGENT: ReadonlySet<CredentialState> = new Set(['warn', 'rotate', 'expired']);
/** An expired credential's series is kept this long (the alert keeps firing), then it is only counted. */
const EXPIRED_SERIES_MS = 30 * 86_400_000;

/**
 * Who gets a per-credential expiry series under `alerting`: what someone alerts on. Credentials
 * the worker rotates or signs in with, and any inside a warning window or expired in the last 30
 * days. An org of 50,000 mostly healthy unmanaged credentials then exports a few thousand series,
 * not 150,000 (23 MB and over a second per scrape); the rest are counted by kind and state.
 */
export function exportsExpiry(item: InventoryItem, mode: 'alerting' | 'all', now: number): boolean {
  if (item.expiresAt === null) return false;
  if (mode === 'all' || item.managed || item.isOwnIdentity === true) return true;
  if (!URGENT.has(item.state)) return false;
  return item.state !== 'expired' || now - item.expiresAt <= EXPIRED_SERIES_MS;
}

const STATES: readonly CredentialState[] = ['ok', 'warn', 'rotate', 'expired', 'inactive', 'unknown'];

/**
 * The `Metrics` the worker reports to, backed by prom-client in `registry` (call once per
 * registry: prom-client refuses a second metric of the same name). Credential gauges are
 * replaced wholesale by each scan, so a credential that vanished from Dfns stops being exported.
 * After a restart, feed the stored last scan to `credentialsScanned` to restore them.
 */
export function createPrometheusMetrics(registry: Registry, options: PrometheusOptions = {}): Metrics {
  const registers = [registry];
  const mode = options.credentialMetrics ?? 'alerting';
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  if (options.queues && options.queues.length > 0) registerQueueMetrics(registry, options.queues, options.queueCountTimeoutMs ?? 1_000);
  if (options.budget) registerBudgetMetrics(registry, options.budget);
  if (options.rotations) registerRetireMetrics(registry, options.rotations, options.queueCountTimeoutMs ?? 1_000);

  const unreadable = new Gauge({
    name: 'dfns_rotator_store_unreadable_secrets',
    help: 'Secrets the last scan could not read from the store (a damaged file): their credentials are not rotated until repaired.',
    registers,
  });
  const expiry = new Gauge({
    name: 'dfns_rotator_credential_expiration_timestamp_seconds',
    help: 'When each credential expires (Unix seconds), one series per credential (as cert-manager does for certificates): managed, the worker\'s own and urgent ones (warn, rotate, expired in the last 30 days), or all with server.credentialMetrics: all. Exact from the token we hold (expiry_source="token"), else estimated from its creation date. Absent when unknown.',
    labelNames: ['kind', 'id', 'name', 'expiry_source', 'managed'] as const,
    registers,
  });
  const byState = new Gauge({
    name: 'dfns_rotator_credentials',
    help: 'Credentials by kind, state and whether the worker manages them, at the last scan.',
    labelNames: ['kind', 'state', 'managed'] as const,
    registers,
  });
  const lastScan = new Gauge({
    name: 'dfns_rotator_last_successful_scan_timestamp_seconds',
    help: 'When the last scan finished (Unix seconds).',
    registers,
  });
  const rotations = new Counter({
    name: 'dfns_rotator_rotations_total',
    help: 'Finished rotations by outcome.',
    labelNames: ['outcome', 'kind', 'strategy'] as const,
    registers,
  });
  const steps = new Histogram({
    name: 'dfns_rotator_rotation_step_duration_seconds',
    help: 'Duration of each rotation step.',
    labelNames: ['step'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const requests = new Counter({
    name: 'dfns_rotator_dfns_requests_total',
    help: 'HTTP requests to the Dfns API by templated route and status (or timeout/network).',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'dfns_rotator_dfns_request_duration_seconds',
    help: 'Duration of HTTP requests to the Dfns API.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers,
  });
  const notifications = new Counter({
    name: 'dfns_rotator_notifications_total',
    help: 'Notification delivery attempts by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });

  return {
    storeUnreadable(count) {
      unreadable.set(count);
    },
    credentialsScanned(items, finishedAt) {
      expiry.reset();
      byState.reset();
      const counts = new Map<string, number>();
      for (const item of items) {
        const managed = String(item.managed);
        if (exportsExpiry(item, mode, finishedAt)) {
          expiry.set({ kind: item.kind, id: item.id, name: item.name, expiry_source: item.expirySource, managed }, item.expiresAt! / 1000);
        }
        const key = `${item.kind}|${item.state}|${managed}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const kind of ['service-account', 'pat'] as const) {
        for (const s of STATES) {
          for (const managed of ['true', 'false']) byState.set({ kind, state: s, managed }, counts.get(`${kind}|${s}|${managed}`) ?? 0);
        }
      }
      lastScan.set(finishedAt / 1000);
    },
    rotationFinished(outcome, kind, strategy) {
      rotations.inc({ outcome, kind, strategy });
    },
    rotationStep(step, seconds) {
      steps.observe({ step }, seconds);
    },
    dfnsRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      requestDuration.observe({ method, route }, seconds);
    },
    notification(type, outcome) {
      notifications.inc({ type, outcome });
    },
  };
}

/** The request budget: what it is now (lower after a 429) beside what is configured, and the 429s seen. */
function registerBudgetMetrics(registry: Registry, budget: Pick<RequestBudget, 'stats'>): void {
  const registers = [registry];
  new Gauge({
    name: 'dfns_rotator_dfns_budget_requests_per_minute',
    help: 'The Dfns request budget shared by every daemon on this Redis, now: halved after a 429, recovering slowly to the configured one.',
    registers,
    collect() {
      this.set(budget.stats().currentPerMinute);
    },
  });
  new Gauge({
    name: 'dfns_rotator_dfns_budget_configured_requests_per_minute',
    help: 'The configured share of the org\'s Dfns limit (dfns.requestsPerMinute).',
    registers,
    collect() {
      this.set(budget.stats().configuredPerMinute);
    },
  });
  let reported = 0;
  new Counter({
    name: 'dfns_rotator_dfns_rate_limited_total',
    help: '429 answers from Dfns seen by this process (each slows the shared budget down).',
    registers,
    collect() {
      const seen = budget.stats().throttled;
      if (seen > reported) this.inc(seen - reported);
      reported = seen;
    },
  });
}

/** The Dfns client's `onRequest` observer, reporting each request to `metrics`. */
export function observeDfnsRequests(metrics: Pick<Metrics, 'dfnsRequest'>): RequestObserver {
  return (event: RequestEvent) => {
    const status = event.status ?? event.error ?? 'network';
    metrics.dfnsRequest(event.method, event.route, status, event.durationMs / 1000);
  };
}
