import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/** Issue 9: start-up errors name the setting that fixes them. */
const TOKEN = 'startup-test-token-0123456789abcdef';

async function listenOnFreePort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

describe('start-up errors', () => {
  let fx: Fixture;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({});
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const options = { catchUp: false, schedule: false, collectProcessMetrics: false };

  it('an unreachable Redis names REDIS_URL', async () => {
    const closed = await listenOnFreePort();
    const port = portOf(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const config = fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: TOKEN, REDIS_URL: `redis://127.0.0.1:${port}` });
    await expect(startDaemon({ ...options, config, logger: fx.logger })).rejects.toThrow(
      new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}.*; start it, or point the worker at a running Redis with REDIS_URL \\(redis\\.url in the config file\\)$`),
    );
  });

  it('a dashboard port in use names DFNS_ROTATOR_PORT', async () => {
    const taken = await listenOnFreePort();
    try {
      const port = portOf(taken);
      const config = fx.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: TOKEN, DFNS_ROTATOR_PORT: String(port) });
      const failure = await startDaemon({ ...options, config, logger: fx.logger, runtime: { clock: fx.sim.clock, sleep: fx.sleep } }).catch((err: unknown) => err);
      expect(failure).toMatchObject({
        code: 'STARTUP',
        message: `the dashboard cannot listen on 127.0.0.1:${port}: the port is in use by another process; stop it, or choose another port with DFNS_ROTATOR_PORT (server.port)`,
      });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
