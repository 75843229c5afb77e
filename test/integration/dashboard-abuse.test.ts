import { request } from 'node:http';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { redisAuditLog } from '../../src/jobs/state/audit.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { freePort } from '../../src/redis/private-redis.js';
import { createHttpServer, queuesPaused, type HttpServer } from '../../src/server/index.js';
import { redisDashboardState } from '../../src/server/shared-state.js';
import { DASHBOARD_TOKEN, startDashboardFixture, tokenAuth, type DashboardFixture } from '../helpers/dashboard-fixture.js';
import { deletePrefix, newRedis, testPrefix } from '../helpers/redis.js';

/**
 * The dashboard against someone trying: lock-out by wrong tokens, job options and data the
 * workers never meant to take, bodies built to crash, a foreign Host (DNS rebinding), and
 * replicas behind one load balancer that must agree on sessions.
 */
const bearer = (token = DASHBOARD_TOKEN) => ({ authorization: `Bearer ${token}` });

function send(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { accept: 'application/json', ...headers }, redirect: 'manual' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return fetch(`${url}${path}`, init);
}

/** fetch() will not send a Host of our choosing; node:http will. */
function withHost(url: string, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function signIn(url: string, token = DASHBOARD_TOKEN): Promise<Response> {
  return fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
}

const cookieOf = (res: Response) => /^(dfns_rotator_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;

describe('dashboard abuse', () => {
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
  const redis = newRedis();
  const auditPrefix = testPrefix();
  const audit = redisAuditLog(redis, auditPrefix);
  let fx: DashboardFixture;

  beforeAll(async () => {
    fx = await startDashboardFixture({
      clock,
      extra: {
        audit,
        // The store knows one secret; anything else is a typo, refused at Add job.
        resolveSecret: async (credential) => {
          if (credential === 'payments/api' || credential === 'sa:us-payments') return 'payments/api';
          throw new Error(`no managed credential "${credential}"`);
        },
      },
    });
  });
  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, auditPrefix);
    redis.disconnect();
  });

  const add = (queue: string, body: unknown, headers: Record<string, string> = bearer()) => send(fx.url, 'POST', `/dashboard/api/queues/${queue}/add`, headers, body);
  const waiting = async (queue: 'scan' | 'rotate') => (await fx.queues[queue].getJobs(['waiting', 'delayed', 'prioritized'])).length;

  it('accepts the correct token after any number of wrong ones from the same address', async () => {
    for (let i = 0; i < 12; i++) expect((await send(fx.url, 'GET', '/api/inventory', bearer(`wrong-token-${i}-0000000000`))).status).toBeOneOf([401, 429]);
    expect((await send(fx.url, 'GET', '/api/inventory', bearer('wrong-token-x-0000000000'))).status).toBe(429);
    expect((await send(fx.url, 'GET', '/api/inventory', bearer())).status).toBe(200);
    // And at the login form.
    for (let i = 0; i < 12; i++) await signIn(fx.url, `wrong-token-${i}-0000000000`);
    expect((await signIn(fx.url, 'wrong-token-y-0000000000')).status).toBe(429);
    expect((await signIn(fx.url)).status).toBe(303);
  });

  it.each([
    ['too many attempts', { attempts: 1_000_000 }, 'options.attempts'],
    ['a negative delay', { delay: -5 }, 'options.delay'],
    ['a delay past a week', { delay: 8 * 86_400_000 }, 'options.delay'],
    ['a repeat', { repeat: { every: 1000 } }, 'options.repeat'],
    ['a backoff of a day', { backoff: { type: 'fixed', delay: 86_400_000 } }, 'options.backoff.delay'],
    ['an unknown option', { removeDependencyOnFailure: true }, 'options.removeDependencyOnFailure'],
    ['a parent', { parent: { id: '1', queue: 'bull:scan' } }, 'options.parent'],
  ])('refuses a rotate job with %s, naming the field', async (_what, options, field) => {
    const before = await waiting('rotate');
    const res = await add('rotate', { name: 'rotate', data: { credential: 'payments/api', reason: 'abuse test' }, options });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string };
    expect(body.message.startsWith(`${field}:`)).toBe(true);
    expect(await waiting('rotate')).toBe(before);
  });

  it.each([
    ['an unknown job name', 'rotate', { name: 'rotate-everything', data: { credential: 'payments/api', reason: 'abuse test' } }, 'name:'],
    ['a scan named rotate', 'scan', { name: 'rotate', data: {} }, 'name:'],
    ['data the worker would refuse', 'rotate', { name: 'rotate', data: { credential: 'payments/api' } }, 'data.reason:'],
    ['a credential the store does not hold', 'rotate', { name: 'rotate', data: { credential: 'payments-api', reason: 'typo' } }, 'data.credential:'],
    ['a job on a queue the daemon feeds', 'retire', { name: 'retire', data: { rotationId: '01JAAAAAAAAAAAAAAAAAAAAAAA', phase: 'deactivate' } }, 'queue "retire"'],
  ])('refuses %s', async (_what, queue, body, start) => {
    const res = await add(queue, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message.startsWith(start)).toBe(true);
  });

  it('queues a valid rotate job with the daemon options, attributed, with a "requested" audit entry', async () => {
    const res = await add('rotate', { name: 'rotate', data: { credential: 'sa:us-payments', reason: 'suspected leak' }, options: { attempts: 3, delay: 60_000 } });
    expect(res.status).toBe(200);
    const { job } = (await res.json()) as { job: { id: string } };
    const stored = (await fx.queues.rotate.getJob(job.id))!;
    const data = stored.data as { rotationId: string; requestedBy: string };
    expect(data).toMatchObject({ credential: 'sa:us-payments', reason: 'suspected leak', requestedBy: 'dashboard:token' });
    expect(stored.id).toBe(`rotate_${data.rotationId}`);
    expect(stored.opts).toMatchObject({ attempts: 3, delay: 60_000, backoff: { type: 'exponential', delay: 30_000 } });
    expect(stored.opts.removeOnComplete).toBeDefined();
    const [entry] = await audit.read({ limit: 1 });
    expect(entry).toMatchObject({ actor: 'dashboard:token', action: 'requested', outcome: 'info', rotationId: data.rotationId, secretName: 'payments/api', detail: 'configured strategy: suspected leak' });

    const scan = await add('scan', { name: 'scan', data: { trigger: 'manual' } });
    expect(scan.status).toBe(200);
    const [scanEntry] = await audit.read({ limit: 1 });
    expect(scanEntry).toMatchObject({ actor: 'dashboard:token', action: 'scan requested' });
  });

  it('refuses editing a queued job and creating a job scheduler, which would bypass the checks', async () => {
    const res = await add('scan', { name: 'scan', data: { trigger: 'manual' } });
    const { job } = (await res.json()) as { job: { id: string } };
    const edit = await send(fx.url, 'PATCH', `/dashboard/api/queues/scan/${job.id}/update-data`, bearer(), { jobData: { trigger: 'manual', requestedBy: 'cli:ceo' } });
    expect(edit.status).toBe(400);
    expect(((await fx.queues.scan.getJob(job.id))!.data as { requestedBy: string }).requestedBy).toBe('dashboard:token');
    const scheduler = await send(fx.url, 'PATCH', '/dashboard/api/queues/rotate/job-schedulers/every-second', bearer(), { every: 1000, name: 'rotate', data: {} });
    expect(scheduler.status).toBe(400);
    expect(await fx.queues.rotate.getJobSchedulersCount()).toBe(0);
  });

  it("replaces what the daemon owns, as bull-board's Duplicate sends it: job id, retention, who asked, the rotation id", async () => {
    const original = await add('rotate', { name: 'rotate', data: { credential: 'payments/api', reason: 'first' } });
    const first = (await fx.queues.rotate.getJob(((await original.json()) as { job: { id: string } }).job.id))!;
    // What the Duplicate dialog pre-fills: the job's name, data and opts as stored.
    const dup = await add('rotate', { name: 'rotate', data: { ...first.data, reason: 'again' }, options: first.opts });
    expect(dup.status).toBe(200);
    const second = (await fx.queues.rotate.getJob(((await dup.json()) as { job: { id: string } }).job.id))!;
    expect(second.id).not.toBe(first.id);
    expect((second.data as { rotationId: string }).rotationId).not.toBe((first.data as { rotationId: string }).rotationId);
    expect(second.id).toBe(`rotate_${(second.data as { rotationId: string }).rotationId}`);

    const forged = await add('scan', { name: '__default__', data: { trigger: 'manual', requestedBy: 'cli:ceo' }, options: { jobId: 'scan_2026-03-01T11-17', removeOnComplete: true } });
    expect(forged.status).toBe(200);
    const scan = (await fx.queues.scan.getJob(((await forged.json()) as { job: { id: string } }).job.id))!;
    expect(scan.name).toBe('scan');
    expect(scan.id).toMatch(/^scan_manual_[0-9A-Z]{26}$/);
    expect(scan.data).toEqual({ trigger: 'manual', requestedBy: 'dashboard:token' });
    expect(scan.opts.removeOnComplete).toEqual({ age: 7 * 86_400, count: 2000 });
  });

  it('records who paused, resumed or retried on bull-board in the audit log', async () => {
    expect((await send(fx.url, 'PUT', '/dashboard/api/queues/rotate/pause', bearer())).status).toBe(200);
    expect((await send(fx.url, 'PUT', '/dashboard/api/queues/rotate/resume', bearer())).status).toBe(200);
    // A refused action (no such job) is not recorded.
    expect((await send(fx.url, 'PUT', '/dashboard/api/queues/rotate/no-such-job/retry', bearer())).status).toBe(404);
    await vi.waitFor(async () => {
      const entries = (await audit.read({ limit: 5 })).map((e) => [e.actor, e.action, e.detail]);
      expect(entries.slice(0, 2)).toEqual([
        ['dashboard:token', 'resumed queue', 'queue rotate'],
        ['dashboard:token', 'paused queue', 'queue rotate'],
      ]);
    }, { timeout: 5_000, interval: 50 });
  });

  it('answers 400, not 500, to deeply nested JSON', async () => {
    const depth = 20_000;
    const nested = `{"name":"scan","data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const res = await send(fx.url, 'POST', '/dashboard/api/queues/scan/add', bearer(), nested);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/nested deeper than 32 levels/);
    // The same on every dashboard API route, e.g. bull-board's update-data.
    const patch = await send(fx.url, 'PATCH', '/dashboard/api/queues/scan/1/update-data', bearer(), `{"jobData":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(patch.status).toBe(400);
  });

  it('refuses a foreign Host (DNS rebinding) but keeps the probes open', async () => {
    const port = new URL(fx.url).port;
    const foreign = await withHost(fx.url, '/api/inventory', `evil.example:${port}`, bearer());
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('server.allowedHosts');
    expect((await withHost(fx.url, '/login', 'evil.example')).status).toBe(403);
    expect((await withHost(fx.url, '/api/inventory', `localhost:${port}`, bearer())).status).toBe(200);
    expect((await withHost(fx.url, '/api/inventory', `127.0.0.1:${port}`, bearer())).status).toBe(200);
    expect((await withHost(fx.url, '/readyz', '10.1.2.3:8730')).status).toBe(200);
    // Prometheus scrapes a pod by its IP; /metrics still needs the token.
    expect((await withHost(fx.url, '/metrics', '10.1.2.3:8730', bearer())).status).toBe(200);
    expect((await withHost(fx.url, '/metrics', '10.1.2.3:8730')).status).toBe(401);
  });

  it('does not announce Express on bull-board routes or its own', async () => {
    for (const path of ['/dashboard', '/dashboard/api/queues', '/api/inventory', '/login']) {
      const res = await send(fx.url, 'GET', path, bearer());
      expect({ path, poweredBy: res.headers.get('x-powered-by') }).toEqual({ path, poweredBy: null });
    }
    // Plain HTTP here: no HSTS.
    expect((await send(fx.url, 'GET', '/login')).headers.get('strict-transport-security')).toBeNull();
  });
});

describe('dashboard server settings', () => {
  const base = { queues: [], readiness: async () => ({}), loadInventory: async () => null, port: 0, auth: tokenAuth() };

  it('sends HSTS with secureCookies, answers to allowedHosts, and warns loudly about plain HTTP off loopback', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }) });
    const secure = await createHttpServer({ ...base, registry: new Registry(), logger: silentLogger, secureCookies: true, allowedHosts: ['rotator.internal.example'] });
    try {
      expect((await send(secure.url, 'GET', '/login')).headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect((await withHost(secure.url, '/login', 'rotator.internal.example')).status).toBe(200);
    } finally {
      await secure.close();
    }
    const open = await createHttpServer({ ...base, registry: new Registry(), logger, host: '0.0.0.0' });
    try {
      expect(lines.some((l) => l.includes('DASHBOARD ON PLAIN HTTP OFF THIS HOST') && l.includes('"level":40'))).toBe(true);
      // A wildcard bind has no name of its own: loopback names still work, others must be listed.
      expect((await withHost(open.url.replace('0.0.0.0', '127.0.0.1'), '/login', 'localhost')).status).toBe(200);
      expect((await withHost(open.url.replace('0.0.0.0', '127.0.0.1'), '/login', '192.0.2.7')).status).toBe(403);
    } finally {
      await open.close();
    }
    lines.length = 0;
    const local = await createHttpServer({ ...base, registry: new Registry(), logger });
    await local.close();
    expect(lines.some((l) => l.includes('PLAIN HTTP'))).toBe(false);
  });
});

describe('two replicas behind one load balancer', () => {
  const redis = newRedis();
  const prefix = testPrefix();
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
  let a: HttpServer;
  let b: HttpServer;

  const replica = () =>
    createHttpServer({
      queues: [],
      readiness: async () => ({}),
      loadInventory: async () => null,
      registry: new Registry(),
      logger: silentLogger,
      port: 0,
      clock,
      auth: tokenAuth(),
      dashboardState: redisDashboardState(redis, prefix),
      loginBackoff: { freeAttempts: 2 },
    });

  beforeAll(async () => {
    a = await replica();
    b = await replica();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('accepts on B a session cookie A issued, and refuses it on B once it logged out on A', async () => {
    const cookie = cookieOf(await signIn(a.url));
    expect((await send(b.url, 'GET', '/api/inventory', { cookie })).status).toBe(200);
    expect((await send(a.url, 'GET', '/logout', { cookie })).status).toBe(303);
    expect((await send(b.url, 'GET', '/api/inventory', { cookie })).status).toBe(401);
    expect((await send(a.url, 'GET', '/api/inventory', { cookie })).status).toBe(401);
  });

  it('counts sign-in failures across replicas', async () => {
    expect((await signIn(a.url, 'wrong-token-1-0000000000')).status).toBe(401);
    expect((await signIn(b.url, 'wrong-token-2-0000000000')).status).toBe(401);
    expect((await signIn(a.url, 'wrong-token-3-0000000000')).status).toBe(429);
    expect((await signIn(b.url, 'wrong-token-4-0000000000')).status).toBe(429);
    expect((await signIn(b.url)).status).toBe(303);
  });

  it('does not accept a cookie signed under another dashboard secret', async () => {
    const other = await createHttpServer({ queues: [], readiness: async () => ({}), loadInventory: async () => null, registry: new Registry(), logger: silentLogger, port: 0, clock, auth: tokenAuth('another-dashboard-token-0123456789'), dashboardState: redisDashboardState(redis, prefix) });
    try {
      const cookie = cookieOf(await signIn(other.url, 'another-dashboard-token-0123456789'));
      expect((await send(other.url, 'GET', '/api/inventory', { cookie })).status).toBe(200);
      expect((await send(a.url, 'GET', '/api/inventory', { cookie })).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('a replica whose Redis does not answer', () => {
  it('still takes the bearer token, refuses wrong ones, and fails sessions closed with a clear 503', async () => {
    const port = await freePort();
    const dead = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    const server = await createHttpServer({ queues: [], readiness: async () => ({}), loadInventory: async () => null, registry: new Registry(), logger: silentLogger, port: 0, auth: tokenAuth(), dashboardState: redisDashboardState(dead, 'dead') });
    try {
      expect((await send(server.url, 'GET', '/api/inventory', bearer())).status).toBe(200);
      expect((await send(server.url, 'GET', '/api/inventory', bearer('wrong-token-0-0000000000'))).status).toBe(401);
      const cookie = cookieOf(await signIn(server.url));
      const res = await send(server.url, 'GET', '/api/inventory', { cookie });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/Redis did not answer.*Bearer/);
      expect((await fetch(`${server.url}/login`, { headers: { cookie } })).status).toBe(200);
      const out = await send(server.url, 'GET', '/logout', { cookie, accept: 'text/html' });
      expect(out.status).toBe(503);
      expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
      expect(await out.text()).toContain('the sign-out could not be recorded');
    } finally {
      await server.close();
      dead.disconnect();
    }
  });
});

describe('paused queues in /readyz', () => {
  it('names a paused queue in the readiness details and stays ready (the dashboard is where it is resumed)', async () => {
    let fx: DashboardFixture | null = null;
    fx = await startDashboardFixture({ readiness: async () => ({ queues: await queuesPaused(Object.values(fx!.queues)) }) });
    try {
      expect(await (await send(fx.url, 'GET', '/readyz')).json()).toEqual({ ready: true, checks: { queues: { ok: true, detail: 'none paused' } } });
      expect((await send(fx.url, 'PUT', '/dashboard/api/queues/rotate/pause', bearer())).status).toBe(200);
      const res = await send(fx.url, 'GET', '/readyz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ready: true, checks: { queues: { ok: true, detail: 'paused: rotate (nothing on them runs until resumed)' } } });
    } finally {
      await fx.close();
    }
  });
});
