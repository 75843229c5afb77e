import { readFileSync } from 'node:fs';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { checkEvictionPolicy } from '../../src/redis/connection.js';
import type { ScanSummary } from '../../src/model.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { startPrivateCluster, type PrivateCluster } from '../helpers/redis-cluster.js';

/**
 * Issue "The daemon": Redis from one URL, Sentinel or Cluster. On a Cluster, BullMQ needs every key
 * of a queue in one slot (the `{…}` hash tag of the prefix), and so do the rotation store's scripts.
 * A scan and a whole rotation run here on a three-master Cluster.
 */
describe('on a Redis Cluster', () => {
  let cluster: PrivateCluster;
  let fx: Fixture;
  let rt: Runtime;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    fx = await startFixture({
      serviceAccounts: [{ name: 'clustered', held: true, ageDays: 360, daysValid: 365 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    const file = fx.writeFile('cluster.yaml', `redis:\n  prefix: "{rotator-cluster}"\n  cluster:\n    nodes:\n${cluster.nodes.map((n) => `      - { host: ${n.host}, port: ${n.port} }`).join('\n')}\n`);
    const env = Object.fromEntries(Object.entries(fx.env).filter(([k]) => k !== 'REDIS_URL' && k !== 'DFNS_ROTATOR_REDIS_PREFIX'));
    const config = loadConfig({ env, configPath: file, readFile: (p) => readFileSync(p, 'utf8'), cwd: fx.dir });
    expect(config.redis.kind).toBe('cluster');
    rt = fx.runtime({ config });
    await fx.adopt('clustered', 'sa/clustered');
    rt.startWorkers();
  }, 60_000);

  afterAll(async () => {
    await rt.close();
    await fx.close();
    await cluster.stop();
  });

  it('checks the eviction policy on every master', async () => {
    expect(await checkEvictionPolicy(rt.redis)).toEqual({ ok: true, policy: 'noeviction' });
  });

  it('runs a scan that queues a rotation, and the rotation to the end', async () => {
    const scanEvents = new QueueEvents('scan', { connection: rt.redis, prefix: rt.config.redis.prefix });
    const rotateEvents = new QueueEvents('rotate', { connection: rt.redis, prefix: rt.config.redis.prefix });
    await Promise.all([scanEvents.waitUntilReady(), rotateEvents.waitUntilReady()]);
    try {
      const scan = await rt.queues.scan.add('scan', { trigger: 'manual' });
      const summary = (await scan.waitUntilFinished(scanEvents, 20_000)) as ScanSummary;
      expect(summary).toMatchObject({ total: 1, rotationsQueued: 1 });
      const [rotation] = await rt.queues.rotate.getJobs(['waiting', 'active', 'completed', 'prioritized']);
      const result = (await rotation!.waitUntilFinished(rotateEvents, 20_000)) as RotateResult;
      expect(result.step).toBe('retire-scheduled');
      const current = (await rt.store.get('sa/clustered'))!.versions.find((v) => v.stages.includes('current'))!;
      expect(current.value.name).toBe('clustered-g2');
      const story = await rt.audit.read({ limit: 20, rotationId: result.rotationId });
      expect(story.map((e) => e.action)).toContain('promoted');
    } finally {
      await scanEvents.close();
      await rotateEvents.close();
    }
  });
});
