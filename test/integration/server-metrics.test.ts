import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestEvent } from '../../src/dfns/transport.js';
import { silentLogger } from '../../src/logger.js';
import { startPrivateRedis } from '../../src/redis/private-redis.js';
import { createHttpServer, createPrometheusMetrics, observeDfnsRequests } from '../../src/server/index.js';
import { DASHBOARD_TOKEN, seededScan, startDashboardFixture, tokenAuth, type DashboardFixture } from '../helpers/dashboard-fixture.js';
import { parsePrometheusText, sampleOf, type Family } from '../helpers/prometheus-text.js';

const now = Date.parse('2026-03-01T10:00:00Z');
const EXPIRY = 'dfns_rotator_credential_expiration_timestamp_seconds';

async function scrape(url: string): Promise<{ contentType: string | null; families: Map<string, Family>; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { contentType: res.headers.get('content-type'), families: parsePrometheusText(text), text };
}

function request(over: Partial<RequestEvent>): RequestEvent {
  return { operation: 'listServiceAccounts', method: 'GET', route: '/auth/service-accounts', step: 'call', signed: false, startedAt: now, durationMs: 120, ...over } as RequestEvent;
}

describe('/metrics', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('serves strict Prometheus text with the expiry gauges of the last scan, queue counts and request counters', async () => {
    const fx: DashboardFixture = await startDashboardFixture({ now });
    cleanups.push(() => fx.close());
    const metrics = createPrometheusMetrics(fx.registry, { queues: Object.values(fx.queues), credentialMetrics: 'all' });
    const scan = seededScan(now);
    metrics.credentialsScanned(scan.items, scan.summary.finishedAt);
    await fx.queues.scan.add('scan', { trigger: 'manual' });
    await fx.queues.scan.add('scan', { trigger: 'schedule' });
    await fx.queues.retire.add('retire', { rotationId: '01JROT00000000000000000000', phase: 'deactivate' }, { delay: 3_600_000 });
    await fx.queues.rotate.pause();
    const observe = observeDfnsRequests(metrics);
    observe(request({ status: 200 }));
    observe(request({ status: 200, durationMs: 80 }));
    observe(request({ method: 'POST', route: '/auth/service-accounts', status: 429 }));
    observe(request({ error: 'timeout', durationMs: 15_000 }));
    metrics.rotationFinished('succeeded', 'service-account', 'replace');
    metrics.rotationStep('create', 0.4);
    metrics.notification('expiry-warning', 'delivered');

    const { contentType, families, text } = await scrape(fx.url);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');

    // With credentialMetrics: all, every credential with a known expiry has exactly one series, in seconds.
    const expiry = families.get(EXPIRY)!;
    expect(expiry.type).toBe('gauge');
    const withExpiry = scan.items.filter((i) => i.expiresAt !== null);
    expect(withExpiry.length).toBeGreaterThanOrEqual(4);
    expect(expiry.samples).toHaveLength(withExpiry.length);
    for (const item of withExpiry) {
      const sample = sampleOf(families, EXPIRY, { id: item.id });
      expect(sample.labels).toEqual({ kind: item.kind, id: item.id, name: item.name, expiry_source: item.expirySource, managed: String(item.managed) });
      expect(sample.value).toBe(item.expiresAt! / 1000);
    }
    // A hostile name survives label escaping intact.
    expect(sampleOf(families, EXPIRY, { id: 'us-hostile' }).labels.name).toBe('<script>alert(1)</script>');
    expect(sampleOf(families, EXPIRY, { id: 'us-legacy' }).labels).toMatchObject({ expiry_source: 'estimate', managed: 'false' });
    expect(families.has('dfns_rotator_credential_state')).toBe(false);
    const counted = (state: string) => families.get('dfns_rotator_credentials')!.samples.filter((x) => x.labels.state === state).reduce((n, x) => n + x.value, 0);
    expect(counted('rotate')).toBe(scan.summary.counts.rotate);
    expect(families.get('dfns_rotator_credentials')!.samples).toHaveLength(2 * 6 * 2);
    expect(sampleOf(families, 'dfns_rotator_last_successful_scan_timestamp_seconds').value).toBe(now / 1000);

    expect(sampleOf(families, 'dfns_rotator_queue_jobs', { queue: 'scan', state: 'waiting' }).value).toBe(2);
    expect(sampleOf(families, 'dfns_rotator_queue_jobs', { queue: 'retire', state: 'delayed' }).value).toBe(1);
    expect(sampleOf(families, 'dfns_rotator_queue_jobs', { queue: 'rotate', state: 'failed' }).value).toBe(0);
    for (const queue of ['scan', 'rotate', 'retire', 'notify']) expect(sampleOf(families, 'dfns_rotator_queue_up', { queue }).value).toBe(1);
    for (const queue of ['scan', 'retire', 'notify']) expect(sampleOf(families, 'dfns_rotator_queue_paused', { queue }).value).toBe(0);
    expect(sampleOf(families, 'dfns_rotator_queue_paused', { queue: 'rotate' }).value).toBe(1);

    const requests = 'dfns_rotator_dfns_requests_total';
    expect(families.get(requests)!.type).toBe('counter');
    expect(sampleOf(families, requests, { method: 'GET', route: '/auth/service-accounts', status: '200' }).value).toBe(2);
    expect(sampleOf(families, requests, { method: 'POST', status: '429' }).value).toBe(1);
    expect(sampleOf(families, requests, { status: 'timeout' }).value).toBe(1);
    const duration = 'dfns_rotator_dfns_request_duration_seconds';
    expect(sampleOf(families, duration, { method: 'GET', route: '/auth/service-accounts' }, `${duration}_count`).value).toBe(3);
    expect(sampleOf(families, duration, { method: 'GET', route: '/auth/service-accounts', le: '0.1' }, `${duration}_bucket`).value).toBe(1);

    expect(sampleOf(families, 'dfns_rotator_rotations_total', { outcome: 'succeeded', kind: 'service-account', strategy: 'replace' }).value).toBe(1);
    expect(sampleOf(families, 'dfns_rotator_rotation_step_duration_seconds', { step: 'create' }, 'dfns_rotator_rotation_step_duration_seconds_count').value).toBe(1);
    expect(sampleOf(families, 'dfns_rotator_notifications_total', { type: 'expiry-warning', outcome: 'delivered' }).value).toBe(1);
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(text).not.toContain(DASHBOARD_TOKEN);

    // The next scan replaces the gauges: a credential that vanished is no longer exported.
    metrics.credentialsScanned(scan.items.filter((i) => i.id !== 'us-payments'), now + 3_600_000);
    const after = (await scrape(fx.url)).families;
    expect(after.get(EXPIRY)!.samples.map((s) => s.labels.id)).not.toContain('us-payments');
    expect(after.get(EXPIRY)!.samples).toHaveLength(withExpiry.length - 1);
    expect(sampleOf(after, 'dfns_rotator_last_successful_scan_timestamp_seconds').value).toBe(now / 1000 + 3600);
  });

  it('exports per-credential expiry only for what people alert on, and counts the rest by kind and state', async () => {
    const registry = new Registry();
    const metrics = createPrometheusMetrics(registry, { defaultMetrics: false });
    const day = 86_400_000;
    const base = seededScan(now).items[0]!;
    const item = (id: string, over: Partial<typeof base>) => ({ ...base, key: `sa:${id}` as const, id, name: id, managed: false, isOwnIdentity: false, role: 'unmanaged' as const, secretName: undefined, ...over });
    const items = [
      item('us-managed-ok', { managed: true, role: 'current', state: 'ok', expiresAt: now + 300 * day }),
      item('us-own-ok', { isOwnIdentity: true, state: 'ok', expiresAt: now + 300 * day }),
      item('us-warn', { state: 'warn', expiresAt: now + 10 * day }),
      item('us-expired-recently', { state: 'expired', expiresAt: now - 5 * day }),
      item('us-expired-long-ago', { state: 'expired', expiresAt: now - 90 * day }),
      ...Array.from({ length: 50 }, (_, i) => item(`us-ok-${i}`, { state: 'ok', expiresAt: now + 400 * day })),
      item('us-unknown', { state: 'unknown', expiresAt: null }),
    ];
    metrics.credentialsScanned(items, now);
    const families = parsePrometheusText(await registry.metrics());
    expect(families.get(EXPIRY)!.samples.map((x) => x.labels.id).sort()).toEqual(['us-expired-recently', 'us-managed-ok', 'us-own-ok', 'us-warn']);
    expect(sampleOf(families, 'dfns_rotator_credentials', { kind: 'service-account', state: 'ok', managed: 'false' }).value).toBe(51);
    expect(sampleOf(families, 'dfns_rotator_credentials', { kind: 'service-account', state: 'expired', managed: 'false' }).value).toBe(2);
    expect(sampleOf(families, 'dfns_rotator_credentials', { kind: 'pat', state: 'ok', managed: 'false' }).value).toBe(0);
  });

  it('shows the request budget now and configured, and the 429s seen', async () => {
    const registry = new Registry();
    const stats = { configuredPerMinute: 200, currentPerMinute: 200, granted: 0, waiting: 0, throttled: 0 };
    createPrometheusMetrics(registry, { defaultMetrics: false, budget: { stats: () => stats } });
    let families = parsePrometheusText(await registry.metrics());
    expect(sampleOf(families, 'dfns_rotator_dfns_budget_requests_per_minute').value).toBe(200);
    Object.assign(stats, { currentPerMinute: 100, throttled: 2 });
    families = parsePrometheusText(await registry.metrics());
    expect(sampleOf(families, 'dfns_rotator_dfns_budget_requests_per_minute').value).toBe(100);
    expect(sampleOf(families, 'dfns_rotator_dfns_budget_configured_requests_per_minute').value).toBe(200);
    expect(sampleOf(families, 'dfns_rotator_dfns_rate_limited_total').value).toBe(2);
    stats.throttled = 3;
    expect(sampleOf(parsePrometheusText(await registry.metrics()), 'dfns_rotator_dfns_rate_limited_total').value).toBe(3);
  });

  it('still answers, promptly, when Redis is down: the queues are reported down', async () => {
    let redis = await startPrivateRedis();
    const port = redis.port;
    const queue = new Queue('scan', { connection: { url: redis.url }, prefix: 'metrics-down' });
    queue.on('error', () => {});
    await queue.waitUntilReady();
    // Cleanups run in reverse: a BullMQ queue only closes against a live Redis.
    cleanups.push(() => redis.stop());
    cleanups.push(() => queue.close());
    const registry = new Registry();
    createPrometheusMetrics(registry, { queues: [queue], queueCountTimeoutMs: 200 });
    const server = await createHttpServer({ port: 0, auth: tokenAuth(), queues: [queue], readiness: async () => ({}), loadInventory: async () => null, registry, logger: silentLogger });
    cleanups.push(() => server.close());

    expect(sampleOf((await scrape(server.url)).families, 'dfns_rotator_queue_up', { queue: 'scan' }).value).toBe(1);
    await redis.stop();
    for (let i = 0; i < 2; i++) {
      // Twice: the second scrape joins the read still pending from the first instead of queueing another.
      const { families } = await scrape(server.url);
      expect(sampleOf(families, 'dfns_rotator_queue_up', { queue: 'scan' }).value).toBe(0);
      expect(families.get('dfns_rotator_queue_jobs')?.samples ?? []).toEqual([]);
      expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    }

    redis = await startPrivateRedis('redis-server', { port });
    await vi.waitFor(async () => expect(sampleOf((await scrape(server.url)).families, 'dfns_rotator_queue_up', { queue: 'scan' }).value).toBe(1), {
      timeout: 15_000,
      interval: 100,
    });
  });
});
