import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/jobs/runtime.js';
import { runScan } from '../../src/jobs/scan.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/** Issue 12: the scan's logged duration is the whole scan, saving its result and updating the gauges included. */
describe('the scan log', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'one', ageDays: 10 }] });
    rt = fx.runtime();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('counts the time spent saving the result and updating the gauges', async () => {
    const deps = rt.scanDeps;
    const summary = await runScan(
      {
        ...deps,
        // Each takes (simulated) seconds: the logged duration must include them.
        results: { ...deps.results, save: async (scan) => { await deps.results.save(scan); fx.sim.clock.advance(5_000); } },
        metrics: { ...deps.metrics, credentialsScanned: (items, at) => { deps.metrics.credentialsScanned(items, at); fx.sim.clock.advance(1_000); } },
      },
      { trigger: 'manual' },
    );
    const line = fx.logs.map((l) => JSON.parse(l) as { msg?: string; scanId?: string; ms?: number }).find((l) => l.msg === 'scan finished' && l.scanId === summary.scanId)!;
    expect(line.ms).toBeGreaterThanOrEqual(6_000);
    expect(summary.finishedAt - summary.startedAt).toBeLessThan(6_000);
  });
});
