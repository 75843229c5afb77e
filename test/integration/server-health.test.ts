import { access } from 'node:fs/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/redis/private-redis.js';
import { createHttpServer, pingRedis, readinessFromChecks, workersRunning, type HttpServer, type Readiness } from '../../src/server/index.js';
import { DASHBOARD_TOKEN, tokenAuth } from '../helpers/dashboard-fixture.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface Probe {
  status: number;
  body: { ready?: boolean; live?: boolean; shuttingDown?: boolean; checks?: Record<string, { ok: boolean; detail?: string }> };
}

async function probe(server: HttpServer, path: '/readyz' | '/livez'): Promise<Probe> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: (await res.json()) as Probe['body'] };
}

function startServer(readiness: Readiness, extra: { livezFailsWhenShuttingDown?: boolean } = {}): Promise<HttpServer> {
  return createHttpServer({ port: 0, auth: tokenAuth(), queues: [], readiness, loadInventory: async () => null, registry: new Registry(), logger: silentLogger, ...extra });
}

describe('health endpoints', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('/readyz turns false when Redis stops and true again when it returns; 503 once shutting down', async () => {
    let redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const port = redis.port;
    // Reconnects on its own, quickly: the readiness check must notice both directions.
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    client.on('error', () => {});
    cleanups.push(() => client.disconnect());
    const worker = new Worker('scan', async () => {}, { connection: { url: redis.url }, prefix: 'health-test' });
    worker.on('error', () => {});
    cleanups.push(() => worker.close(true));
    const dir = await makeTempDir();
    cleanups.push(() => dir.remove());

    const readiness = readinessFromChecks(
      {
        redis: () => pingRedis(client, 300),
        workers: () => workersRunning([worker]),
        store: async () => {
          await access(dir.path);
          return { ok: true };
        },
      },
      { timeoutMs: 500 },
    );
    const server = await startServer(readiness);
    cleanups.push(() => server.close());

    await vi.waitFor(async () => expect((await probe(server, '/readyz')).status).toBe(200), { timeout: 10_000, interval: 50 });
    const ready = await probe(server, '/readyz');
    expect(ready.body).toMatchObject({ ready: true, checks: { redis: { ok: true }, workers: { ok: true }, store: { ok: true } } });

    await redis.stop();
    await vi.waitFor(
      async () => {
        const down = await probe(server, '/readyz');
        expect(down.status).toBe(503);
        expect(down.body.ready).toBe(false);
        expect(down.body.checks?.redis?.ok).toBe(false);
        expect(down.body.checks?.store?.ok).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    // Liveness is about the process, not its dependencies.
    expect((await probe(server, '/livez')).status).toBe(200);

    redis = await startPrivateRedis('redis-server', { port });
    await vi.waitFor(async () => expect((await probe(server, '/readyz')).status).toBe(200), { timeout: 15_000, interval: 100 });

    server.setShuttingDown();
    const stopping = await probe(server, '/readyz');
    expect(stopping.status).toBe(503);
    expect(stopping.body).toMatchObject({ ready: false, shuttingDown: true });
    expect((await probe(server, '/livez')).status).toBe(200);
  });

  it('counts a hanging or throwing check as not ready, and answers without credentials or secrets', async () => {
    const readiness = readinessFromChecks(
      {
        redis: () => new Promise(() => {}),
        workers: () => workersRunning([]),
        store: () => {
          throw new Error('store directory /data/secrets is not readable');
        },
      },
      { timeoutMs: 100 },
    );
    const server = await startServer(readiness);
    cleanups.push(() => server.close());
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      ready: false,
      checks: {
        redis: { ok: false, detail: 'no answer within 100 ms' },
        workers: { ok: false, detail: 'no worker started' },
        store: { ok: false, detail: 'store directory /data/secrets is not readable' },
      },
    });
    expect(text).not.toContain(DASHBOARD_TOKEN);
  });

  it('/livez fails once shutting down when configured to', async () => {
    const server = await startServer(async () => ({ redis: { ok: true } }), { livezFailsWhenShuttingDown: true });
    cleanups.push(() => server.close());
    expect((await probe(server, '/livez')).status).toBe(200);
    server.setShuttingDown();
    expect(await probe(server, '/livez')).toEqual({ status: 503, body: { live: false, shuttingDown: true } });
  });
});
