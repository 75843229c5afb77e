import type { Queue } from 'bullmq';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import type { QueueName } from '../../src/jobs/queues/job-data.js';
import { startFixture, type Fixture } from './daemon-fixture.js';
import { deletePrefix, newRedis } from './redis.js';

export const DAEMON_DASHBOARD_TOKEN = 'browser-dashboard-token-0123456789';

/** What the seeded org holds, by name, for the browser test's assertions. */
export const DAEMON_SEEDED_NAMES = ['payments-api', 'legacy-reporting', 'watcher', 'ci-deployer', '<script>alert(1)</script>'] as const;

export interface DaemonDashboard {
  url: string;
  queues: Record<QueueName, Queue>;
  fixture: Fixture;
  daemon: Daemon;
  close(): Promise<void>;
}

/**
 * A real daemon (workers, dashboard, metrics) scanning the simulator: a managed service account
 * near expiry, one whose expiry is estimated, the watcher the daemon lists with (its own identity),
 * an operator PAT, and a credential with a hostile name. No scan runs until one is added.
 */
export async function startDaemonDashboard(): Promise<DaemonDashboard> {
  const fixture = await startFixture({
    serviceAccounts: [
      { name: 'payments-api', held: true, ageDays: 300, daysValid: 365 },
      { name: 'legacy-reporting', ageDays: 712 },
      { name: 'watcher', ageDays: 20, daysValid: 365, permission: 'Reader' },
      { name: '<script>alert(1)</script>', ageDays: 100 },
    ],
    pats: [{ name: 'ci-deployer', owner: 'rotator@acme.test', ageDays: 30, daysValid: 365 }],
  });
  await fixture.adopt('payments-api', 'payments/api');
  const config = fixture.configWith({ DFNS_ROTATOR_DASHBOARD_TOKEN: DAEMON_DASHBOARD_TOKEN, DFNS_WATCHER_TOKEN: fixture.sim.seededTokens.get('watcher')! });
  const daemon = await startDaemon({
    config,
    logger: fixture.logger,
    runtime: { clock: fixture.sim.clock, sleep: fixture.sleep, dfnsRetry: { baseDelayMs: 1, maxDelayMs: 5 }, jobBackoffMs: 10, notifyLimiter: { max: 1000, duration: 1000 } },
    server: { port: 0 },
    schedule: false,
    catchUp: false,
    collectProcessMetrics: false,
  });
  return {
    url: daemon.server!.url,
    queues: daemon.runtime.queues,
    fixture,
    daemon,
    async close() {
      await daemon.stop('test over');
      await fixture.close();
      const redis = newRedis();
      await deletePrefix(redis, config.redis.prefix);
      redis.disconnect();
    },
  };
}
