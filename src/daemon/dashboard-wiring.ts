import type { Config } from '../config/types.js';
import type { Runtime } from '../jobs/runtime.js';
import { resolveSecretName } from '../jobs/effects/rotation-plan.js';
import { readStoreTolerantly } from '../jobs/effects/store-read.js';
import type { AppOptions } from '../server/app.js';
import { queueHints } from '../server/dashboard-hints.js';
import { redisDashboardState } from '../server/shared-state.js';

/**
 * What the dashboard shares with the rest of the daemon: the Redis-backed session and sign-in
 * state (so replicas behind one load balancer agree), the audit log for dashboard triggers, and
 * the store to check a rotate job's credential when it is added.
 */
export async function dashboardWiring(runtime: Runtime, config: Config): Promise<Pick<AppOptions, 'dashboardState' | 'audit' | 'resolveSecret' | 'allowedHosts' | 'queueHints'>> {
  // The store as it is at start: a damaged or unreachable store only loses the example.
  const names = await readStoreTolerantly(runtime.store).then(({ summaries }) => summaries.map((s) => s.name).sort(), () => [] as string[]);
  return {
    queueHints: queueHints({ secretNames: names }),
    dashboardState: redisDashboardState(runtime.redis, config.redis.prefix),
    audit: runtime.audit,
    resolveSecret: (credential) => resolveSecretName(runtime.store, credential),
    allowedHosts: config.server.allowedHosts,
  };
}
