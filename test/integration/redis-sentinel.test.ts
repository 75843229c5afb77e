import { readFileSync } from 'node:fs';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { ScanSummary } from '../../src/model.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { startPrivateSentinel, type PrivateSentinel } from '../helpers/redis-sentinel.js';

/** Issue "The daemon": Redis from one URL, Sentinel or Cluster. Here the daemon finds its master through Sentinel. */
describe('through Redis Sentinel', () => {
  let sentinel: PrivateSentinel;
  let fx: Fixture;
  let rt: Runtime;

  beforeAll(async () => {
    sentinel = await startPrivateSentinel();
    fx = await startFixture({ serviceAccounts: [{ name: 'sentinel-sa', ageDays: 100 }] });
    const file = fx.writeFile('sentinel.yaml', `redis:\n  sentinel:\n    name: ${sentinel.name}\n    sentinels:\n${sentinel.sentinels.map((s) => `      - { host: ${s.host}, port: ${s.port} }`).join('\n')}\n`);
    const env = Object.fromEntries(Object.entries(fx.env).filter(([k]) => k !== 'REDIS_URL'));
    const config = loadConfig({ env, configPath: file, readFile: (p) => readFileSync(p, 'utf8'), cwd: fx.dir });
    expect(config.redis.kind).toBe('sentinel');
    rt = fx.runtime({ config });
    rt.startWorkers();
  });

  afterAll(async () => {
    await rt.close();
    await fx.close();
    await sentinel.stop();
  });

  it('runs a scan on the master Sentinel names', async () => {
    const events = new QueueEvents('scan', { connection: rt.redis, prefix: rt.config.redis.prefix });
    await events.waitUntilReady();
    try {
      const job = await rt.queues.scan.add('scan', { trigger: 'manual' });
      expect(((await job.waitUntilFinished(events, 20_000)) as ScanSummary).total).toBe(1);
    } finally {
      await events.close();
    }
    const info = await rt.redis.info('server');
    expect(info).toContain(`tcp_port:${sentinel.master.port}`);
  });
});
