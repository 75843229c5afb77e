import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestBudget } from '../dfns/request-budget.js';
import type { RequestEvent, RequestObserver } from '../dfns/transport.js';
import type { Metrics } from '../metrics.js';
import type { CredentialState } from '../model.js';
import { registerQueueMetrics, type CountableQueue } from './queue-metrics.js';

export interface PrometheusOptions {
  /** BullMQ queues whose job counts are read at scrape time. */
  queues?: readonly CountableQueue[];
  /** Bound on each queue's count read during a scrape. */
  queueCountTimeoutMs?: number;
  /** prom-client's process metrics (CPU, memory, event loop, GC); on unless turned off. */
  defaultMetrics?: boolean;
  /** The Dfns request budget, read at scrape time. */
  budget?: Pick<RequestBudget, 'stats'>;
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
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  if (options.queues && options.queues.length > 0) registerQueueMetrics(registry, options.queues, options.queueCountTimeoutMs ?? 1_000);
  if (options.budget) registerBudgetMetrics(registry, options.budget);

  const expiry = new Gauge({
    name: 'dfns_rotator_credential_expiration_timestamp_seconds',
    help: 'When each credential expires (Unix seconds): exact from the token we hold, else estimated from its creation date (see dfns_rotator_credential_info{expiry_source}). Absent when unknown.',
    labelNames: ['kind', 'id', 'name'] as const,
    registers,
  });
  const state = new Gauge({
    name: 'dfns_rotator_credential_state',
    help: 'The state of each credential at the last scan: 1 for its current state.',
    labelNames: ['kind', 'id', 'name', 'state'] as const,
    registers,
  });
  const info = new Gauge({
    name: 'dfns_rotator_credential_info',
    help: 'Facts about each credential at the last scan (always 1).',
    labelNames: ['kind', 'id', 'name', 'expiry_source', 'strategy', 'managed', 'own_identity'] as const,
    registers,
  });
  const byState = new Gauge({
    name: 'dfns_rotator_credentials',
    help: 'Credentials per state at the last scan.',
    labelNames: ['state'] as const,
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
    credentialsScanned(items, finishedAt) {
      expiry.reset();
      state.reset();
      info.reset();
      const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<CredentialState, number>;
      for (const item of items) {
        const labels = { kind: item.kind, id: item.id, name: item.name };
        if (item.expiresAt !== null) expiry.set(labels, item.expiresAt / 1000);
        state.set({ ...labels, state: item.state }, 1);
        info.set(
          { ...labels, expiry_source: item.expirySource, strategy: item.strategy, managed: String(item.managed), own_identity: String(item.isOwnIdentity === true) },
          1,
        );
        counts[item.state] += 1;
      }
      for (const s of STATES) byState.set({ state: s }, counts[s]);
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
