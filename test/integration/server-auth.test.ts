import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SecretValue } from '../../src/config/secret-value.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { createHttpServer } from '../../src/server/index.js';
import { safeEqual } from '../../src/server/safe-equal.js';
import { DASHBOARD_TOKEN, startDashboardFixture, type DashboardFixture } from '../helpers/dashboard-fixture.js';

const JSON_ACCEPT = { accept: 'application/json' };
const bearer = (token = DASHBOARD_TOKEN) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

/** Every route behind the guard, with the methods bull-board's UI uses for its actions. */
const PROTECTED: [string, string][] = [
  ['GET', '/'],
  ['GET', '/inventory'],
  ['GET', '/api/inventory'],
  ['GET', '/metrics'],
  ['GET', '/dashboard'],
  ['GET', '/dashboard/queue/scan'],
  ['GET', '/dashboard/api/queues'],
  ['GET', '/dashboard/api/queues/scan/job-data-schema'],
  ['POST', '/dashboard/api/queues/scan/add'],
  ['PUT', '/dashboard/api/queues/scan/pause'],
  ['PUT', '/dashboard/api/queues/pause'],
  ['PUT', '/dashboard/api/queues/scan/retry/failed'],
  ['PUT', '/dashboard/api/queues/scan/clean/completed'],
  ['PUT', '/dashboard/api/queues/scan/empty'],
  ['PUT', '/dashboard/api/queues/scan/obliterate'],
  ['PATCH', '/dashboard/api/queues/scan/1/update-data'],
  ['DELETE', '/dashboard/api/queues/scan'],
];

function send(fx: DashboardFixture, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { ...JSON_ACCEPT, ...headers }, redirect: 'manual' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return fetch(`${fx.url}${path}`, init);
}

async function signIn(fx: DashboardFixture, form: Record<string, string>, headers: Record<string, string> = { origin: fx.url }): Promise<Response> {
  return fetch(`${fx.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

function sessionFrom(res: Response): string {
  const setCookie = res.headers.get('set-cookie') ?? '';
  const match = /^(dfns_rotator_session=[^;]+)/.exec(setCookie);
  if (!match) throw new Error(`no session cookie in ${setCookie}`);
  return match[1]!;
}

async function jobCount(fx: DashboardFixture, queue: 'scan' | 'rotate'): Promise<number> {
  const counts = await fx.queues[queue].getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('dashboard authentication (token)', () => {
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
  let fx: DashboardFixture;

  beforeAll(async () => {
    // Backoff is tested on its own below; here many wrong attempts must all get a plain 401.
    fx = await startDashboardFixture({ clock, extra: { loginBackoff: { freeAttempts: 10_000 } } });
  });
  afterAll(() => fx.close());

  it('refuses every dashboard, API and metrics route without credentials and with wrong ones', async () => {
    for (const [method, path] of PROTECTED) {
      for (const headers of [{}, bearer('not-the-token-0000000000'), basic('admin', DASHBOARD_TOKEN), { authorization: DASHBOARD_TOKEN }]) {
        const res = await send(fx, method, path, headers, method === 'GET' ? undefined : { name: 'scan', data: {} });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="dfns-rotator"');
        expect(await res.text()).not.toContain(DASHBOARD_TOKEN);
      }
    }
    expect(await jobCount(fx, 'scan')).toBe(0);
    expect(await fx.queues.scan.isPaused()).toBe(false);
  });

  it('sends a browser without a session to the login form, keeping where it was going', async () => {
    const res = await send(fx, 'GET', '/dashboard/queue/scan', { accept: 'text/html,application/xhtml+xml' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fdashboard%2Fqueue%2Fscan');
    const page = await fetch(`${fx.url}/login?next=%2Fdashboard`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="token"');
    expect(html).toContain('value="/dashboard"');
  });

  it('leaves the probes open', async () => {
    expect((await send(fx, 'GET', '/livez')).status).toBe(200);
    expect((await send(fx, 'GET', '/readyz')).status).toBe(200);
  });

  it("adds a scan job through bull-board's HTTP API with the bearer token, and none without", async () => {
    const refused = await send(fx, 'POST', '/dashboard/api/queues/scan/add', {}, { name: 'scan', data: { trigger: 'manual' } });
    expect(refused.status).toBe(401);
    expect(await jobCount(fx, 'scan')).toBe(0);

    const res = await send(fx, 'POST', '/dashboard/api/queues/scan/add', bearer(), { name: 'scan', data: { trigger: 'manual' }, options: {} });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { job: { id: string; name: string } };
    expect(body.job.name).toBe('scan');
    const job = await fx.queues.scan.getJob(body.job.id);
    expect(job?.name).toBe('scan');
    // Attributed to who asked: the job carries the signed-in identity.
    expect(job?.data).toEqual({ trigger: 'manual', requestedBy: 'dashboard:token' });

    const rotate = await send(fx, 'POST', '/dashboard/api/queues/rotate/add', bearer(), { name: 'rotate', data: { credential: 'payments-api', reason: 'suspected leak' } });
    expect(rotate.status).toBe(200);
    const [rotateJob] = await fx.queues.rotate.getJobs(['waiting']);
    expect(rotateJob?.data).toEqual({ credential: 'payments-api', reason: 'suspected leak', requestedBy: 'dashboard:token', rotationId: expect.stringMatching(/^[0-9A-Z]{26}$/) });
    expect(rotateJob?.id).toBe(`rotate_${(rotateJob?.data as { rotationId: string }).rotationId}`);

    // Other actions go through the same guard: pause works with the token.
    expect((await send(fx, 'PUT', '/dashboard/api/queues/notify/pause', bearer())).status).toBe(200);
    expect(await fx.queues.notify.isPaused()).toBe(true);
    await fx.queues.notify.resume();
  });

  it('signs a browser in with the login form: an HttpOnly SameSite=Strict cookie that is not the token, then the dashboard loads', async () => {
    const wrong = await signIn(fx, { token: 'wrong-token-000000000000', next: '/dashboard' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That token is not right.');

    const ok = await signIn(fx, { token: DASHBOARD_TOKEN, next: '/dashboard' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/dashboard');
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toContain(DASHBOARD_TOKEN);
    const cookie = sessionFrom(ok);

    const dashboard = await send(fx, 'GET', '/dashboard', { cookie, accept: 'text/html' });
    expect(dashboard.status).toBe(200);
    const html = await dashboard.text();
    expect(html).toContain('<title>dfns-rotator</title>');
    expect(html).toContain('<base href="/dashboard/"');
    const queues = await send(fx, 'GET', '/dashboard/api/queues', { cookie });
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['notify', 'retire', 'rotate', 'scan']);
  });

  it('never redirects off this server after sign-in', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example', '/\\evil.example', '/login']) {
      const res = await signIn(fx, { token: DASHBOARD_TOKEN, next });
      expect(res.headers.get('location')).toBe('/inventory');
    }
  });

  it('refuses a state-changing request on a session cookie unless it comes from the same origin', async () => {
    const cookie = sessionFrom(await signIn(fx, { token: DASHBOARD_TOKEN }));
    const add = (headers: Record<string, string>) => send(fx, 'POST', '/dashboard/api/queues/scan/add', { cookie, ...headers }, { name: 'scan', data: { trigger: 'manual' } });
    const before = await jobCount(fx, 'scan');
    expect((await add({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await add({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await add({ 'sec-fetch-site': 'same-site', origin: fx.url })).status).toBe(403);
    expect((await add({ origin: 'null' })).status).toBe(403);
    // A cookie without any origin information is not a browser on our page.
    expect((await add({})).status).toBe(403);
    expect(await jobCount(fx, 'scan')).toBe(before);

    expect((await add({ origin: fx.url })).status).toBe(200);
    expect((await add({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(await jobCount(fx, 'scan')).toBe(before + 2);
    // Reads need no origin.
    expect((await send(fx, 'GET', '/api/inventory', { cookie })).status).toBe(200);
  });

  it('refuses a sign-in form posted from another site', async () => {
    const res = await signIn(fx, { token: DASHBOARD_TOKEN }, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('ends a session at logout and when it expires', async () => {
    const cookie = sessionFrom(await signIn(fx, { token: DASHBOARD_TOKEN }));
    expect((await send(fx, 'GET', '/api/inventory', { cookie })).status).toBe(200);
    const out = await send(fx, 'GET', '/logout', { cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await send(fx, 'GET', '/api/inventory', { cookie })).status).toBe(401);

    const second = sessionFrom(await signIn(fx, { token: DASHBOARD_TOKEN }));
    clock.advance(12 * 3_600_000 + 1);
    expect((await send(fx, 'GET', '/api/inventory', { cookie: second })).status).toBe(401);
    // A forged cookie (valid shape, wrong MAC) is not a session.
    const forged = second.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await send(fx, 'GET', '/api/inventory', { cookie: forged })).status).toBe(401);
  });
});

describe('dashboard sign-in backoff', () => {
  it('slows down repeated failures from one address, logs them without any secret, never refuses the right token, and forgets after a quiet wait', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }) });
    const fx = await startDashboardFixture({ clock, logger });
    try {
      for (let i = 0; i < 5; i++) expect((await signIn(fx, { token: `guess-number-${i}-0000000000` })).status).toBe(401);
      // Inside the wait a wrong token is answered 429 (and not counted)…
      const blocked = await signIn(fx, { token: 'guess-number-5-0000000000' });
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe('1');
      expect((await signIn(fx, { token: 'guess-number-6-0000000000' })).status).toBe(429);
      clock.advance(1_000);
      expect((await signIn(fx, { token: 'guess-number-7-0000000000' })).status).toBe(401);
      // The wait doubles.
      clock.advance(1_000);
      expect((await signIn(fx, { token: 'guess-number-8-0000000000' })).status).toBe(429);
      // …but the right token is never refused, wait or not: a guesser cannot lock its owner out.
      expect((await signIn(fx, { token: DASHBOARD_TOKEN })).status).toBe(303);
      // A success does not wipe the slate: a guesser sharing the address gains nothing from it.
      expect((await signIn(fx, { token: 'guess-number-9-0000000000' })).status).toBe(429);
      // Quiet for a while (the wait has passed): the next wrong attempt is counted again.
      clock.advance(4_000);
      expect((await signIn(fx, { token: 'guess-number-b-0000000000' })).status).toBe(401);

      // Bearer failures are counted apart from the form, so a misconfigured scraper cannot slow people down at the form.
      for (let i = 0; i < 5; i++) expect((await send(fx, 'GET', '/metrics', bearer(`wrong-${i}-00000000000000`))).status).toBe(401);
      expect((await send(fx, 'GET', '/metrics', bearer('wrong-5-00000000000000'))).status).toBe(429);
      expect((await send(fx, 'GET', '/metrics', bearer())).status).toBe(200);
      // The form's own wait (4 s after its 7th failure) is all that applies to it.
      clock.advance(4_000);
      expect((await signIn(fx, { token: 'guess-number-a-0000000000' })).status).toBe(401);

      const failures = lines.filter((l) => l.includes('dashboard sign-in failed') || l.includes('dashboard authentication failed'));
      expect(failures).toHaveLength(18);
      const all = lines.join('\n');
      expect(all).not.toContain(DASHBOARD_TOKEN);
      expect(all).not.toContain('guess-number');
      expect(all).not.toMatch(/wrong-\d/);
    } finally {
      await fx.close();
    }
  });
});

describe('dashboard authentication (basic)', () => {
  const auth = { kind: 'basic' as const, username: 'ops', password: new SecretValue('correct horse battery', 'test') };
  let fx: DashboardFixture;

  beforeAll(async () => {
    fx = await startDashboardFixture({ auth, extra: { loginBackoff: { freeAttempts: 10_000 } } });
  });
  afterAll(() => fx.close());

  it('challenges browsers and clients, and refuses wrong credentials', async () => {
    const none = await send(fx, 'GET', '/inventory', { accept: 'text/html' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="dfns-rotator", charset="UTF-8"');
    expect(await none.text()).toContain('/login?next=');
    for (const headers of [basic('ops', 'wrong password'), basic('admin', 'correct horse battery'), basic('ops', ''), bearer('correct horse battery')]) {
      expect((await send(fx, 'GET', '/api/inventory', headers)).status).toBe(401);
      expect((await send(fx, 'POST', '/dashboard/api/queues/scan/add', headers, { name: 'scan', data: {} })).status).toBe(401);
    }
    expect(await jobCount(fx, 'scan')).toBe(0);
  });

  it('accepts the right credentials, for reads, actions and the login form', async () => {
    const good = basic('ops', 'correct horse battery');
    expect((await send(fx, 'GET', '/api/inventory', good)).status).toBe(200);
    expect((await send(fx, 'POST', '/dashboard/api/queues/scan/add', good, { name: 'scan', data: { trigger: 'manual' } })).status).toBe(200);
    expect(await jobCount(fx, 'scan')).toBe(1);
    // Browsers replay cached basic credentials cross-site too: refuse those.
    expect((await send(fx, 'POST', '/dashboard/api/queues/scan/add', { ...good, origin: 'http://evil.example' }, { name: 'scan', data: {} })).status).toBe(403);
    expect(await jobCount(fx, 'scan')).toBe(1);

    expect((await signIn(fx, { username: 'ops', password: 'wrong' })).status).toBe(401);
    const cookie = sessionFrom(await signIn(fx, { username: 'ops', password: 'correct horse battery' }));
    expect((await send(fx, 'GET', '/dashboard/api/queues', { cookie })).status).toBe(200);
  });
});

describe('dashboard configuration', () => {
  const base = {
    queues: [],
    readiness: async () => ({}),
    loadInventory: async () => null,
    logger: silentLogger,
    port: 0,
  };

  it('refuses to start without credentials: there is no default password', async () => {
    await expect(createHttpServer({ ...base, registry: new Registry(), auth: null })).rejects.toThrow(ConfigError);
    await expect(createHttpServer({ ...base, registry: new Registry(), auth: null })).rejects.toThrow(/no default password/);
    await expect(createHttpServer({ ...base, registry: new Registry(), auth: { kind: 'token', token: new SecretValue('  ', 'test') } })).rejects.toThrow(/empty/);
    await expect(createHttpServer({ ...base, registry: new Registry(), auth: null, insecureNoAuth: true, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });

  it('binds to 127.0.0.1 unless told otherwise', async () => {
    const server = await createHttpServer({ ...base, registry: new Registry(), auth: { kind: 'token', token: new SecretValue(DASHBOARD_TOKEN, 'test') } });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });
});

describe('safeEqual', () => {
  it.each([
    ['same', 'same', true],
    ['same', 'Same', false],
    ['short', 'a much longer value', false],
    ['', '', true],
    ['', 'x', false],
    ['naïve-ünïcode', 'naïve-ünïcode', true],
    [DASHBOARD_TOKEN, `${DASHBOARD_TOKEN} `, false],
  ])('%j vs %j → %s, whatever the lengths', (a, b, expected) => {
    expect(safeEqual(a, b)).toBe(expected);
  });
});
