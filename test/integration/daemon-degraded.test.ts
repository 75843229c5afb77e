import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import { readIdentityHealth } from '../../src/daemon/identity-health.js';
import { checkIdentity } from '../../src/daemon/startup-checks.js';
import { DfnsForbiddenError } from '../../src/dfns/errors.js';
import { checkPersistence } from '../../src/redis/connection.js';
import { startPrivateRedis } from '../../src/redis/private-redis.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 8, leftovers: a daemon started while Dfns answers 429 with `Retry-After: 59` outlasted
 * the 15 s start-up check and exited 1. It now starts with the identity marked degraded (in
 * /readyz details and `status`) and retries in the background. And a Redis without AOF or RDB
 * persistence is warned about at start, as an evicting one is.
 */
describe('start-up on a rate-limited Dfns', () => {
  let fx: Fixture;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'svc', held: true, ageDays: 10, daysValid: 365 }] });
  });
  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('starts with the operator degraded, says so in /readyz and status, and recovers in the background', async () => {
    fx.sim.setKnobs({ faultRate: 1, faultKinds: ['rate-limited'], retryAfterSeconds: 59, faultOperations: ['LoginInit', 'ListServiceAccounts', 'ListPats'] });
    const daemon = await startDaemon({
      config: fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: 'degraded-test-token-0123456789' }),
      logger: fx.logger,
      // The shared request budget honours Retry-After too (59 s, for every daemon): on the
      // simulator's clock, like the retries, so the test need not wait a real minute.
      runtime: { clock: fx.sim.clock, sleep: fx.sleep, jobBackoffMs: 10, budgetTime: { clock: fx.sim.clock, sleep: fx.sleep } },
      server: { port: 0 },
      schedule: false,
      catchUp: false,
      collectProcessMetrics: false,
      identityRetryMs: 20,
    });
    try {
      const [operator] = daemon.startup.identities;
      expect(operator).toMatchObject({ ok: false, degraded: true, detail: expect.stringMatching(/rate limited/) });
      const readyz = async () => (await (await fetch(`${daemon.server!.url}/readyz`)).json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
      const first = await readyz();
      expect(first.ready).toBe(true); // it serves, runs jobs (which retry on their own) and tells why it is degraded
      expect(first.checks.dfns!.detail).toMatch(/operator rotator@acme\.test: degraded since .* \(.*rate limited.*\), retrying in the background/);
      const health = await readIdentityHealth(redis, fx.config.redis.prefix);
      expect(health).toEqual([expect.objectContaining({ identity: 'operator rotator@acme.test', state: 'degraded' })]);

      fx.sim.setKnobs({ faultRate: 0 });
      await vi.waitFor(async () => expect((await readyz()).checks.dfns!.detail).toMatch(/: ok$/), { timeout: 10_000, interval: 50 });
      await vi.waitFor(async () => expect(await readIdentityHealth(redis, fx.config.redis.prefix)).toEqual([expect.objectContaining({ state: 'ok' })]), { timeout: 5_000, interval: 50 });
      expect(fx.logs.join('')).toMatch(/Dfns identity recovered/);
    } finally {
      fx.sim.setKnobs({ faultRate: 0 });
      await daemon.stop('test over');
    }
  });

  it('still refuses to start when every identity is refused for good', async () => {
    const identities = { operator: async () => { throw new DfnsForbiddenError('forbidden: no permission (HTTP 403)', { operation: 'login' }); }, watcher: async () => null };
    const report = await checkIdentity({ identities: identities as never, config: { operator: { username: 'op' } } as never }, 'operator', 1000);
    expect(report).toMatchObject({ identity: 'operator op', ok: false, detail: expect.stringMatching(/403/) });
    expect(report!.degraded).toBeUndefined();
  });

  it('counts an identity whose check gets no answer in time as degraded (a long Retry-After)', async () => {
    const identities = { operator: () => new Promise<never>(() => {}), watcher: async () => null };
    const report = await checkIdentity({ identities: identities as never, config: { operator: { username: 'op' } } as never }, 'operator', 30);
    expect(report).toMatchObject({ ok: false, degraded: true, detail: 'operator op: no answer within 30 ms' });
  });
});

describe('Redis persistence at start', () => {
  it('warns when Redis has neither AOF nor RDB, and is content with either', async () => {
    const bare = await startPrivateRedis(); // started with --save "" --appendonly no
    const client = new Redis(bare.url);
    try {
      expect(await checkPersistence(client)).toMatchObject({ ok: false, aof: false, rdb: false, message: expect.stringMatching(/neither AOF nor RDB/) });
      await client.config('SET', 'save', '3600 1');
      expect(await checkPersistence(client)).toMatchObject({ ok: true, aof: false, rdb: true });
      await client.config('SET', 'save', '');
      await client.config('SET', 'appendonly', 'yes');
      await vi.waitFor(async () => expect(await checkPersistence(client)).toMatchObject({ ok: true, aof: true }), { timeout: 5_000, interval: 50 });
      await client.config('SET', 'appendonly', 'no'); // so that the private server stops at once
    } finally {
      client.disconnect();
      await bare.stop();
    }
  });

  it('the daemon logs the warning loudly and still starts', async () => {
    const fx = await startFixture();
    const bare = await startPrivateRedis(); // whatever the test run's Redis is, this one keeps nothing
    try {
      const daemon = await startDaemon({
        config: fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: 'degraded-test-token-0123456789', REDIS_URL: bare.url }),
        logger: fx.logger,
        runtime: { clock: fx.sim.clock, sleep: fx.sleep },
        server: { port: 0 },
        schedule: false,
        catchUp: false,
        collectProcessMetrics: false,
      });
      expect(daemon.startup.persistence).toMatchObject({ ok: false });
      expect(fx.logs.join('')).toMatch(/!!! Redis runs with neither AOF nor RDB persistence: a Redis restart loses every queued rotation/);
      await daemon.stop('test over');
    } finally {
      await fx.close();
      await bare.stop();
    }
  });
});
