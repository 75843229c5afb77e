import type { Runtime } from '../jobs/runtime.js';
import type { Logger } from '../logger.js';
import type { IdentityHealth } from './identity-health.js';
import { checkIdentity, type IdentityReport } from './startup-checks.js';

/** First wait before retrying a degraded identity, doubled up to MAX_RETRY_MS. */
export const IDENTITY_RETRY_MS = 30_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * Keeps checking identities that were degraded at start (a rate-limited Dfns answering 429 with
 * `Retry-After: 59` outlasts the start-up check) until they work or fail for good, updating the
 * shared health. Jobs meanwhile run and retry on their own. Returns a stop function.
 */
export function retryDegradedIdentities(
  runtime: Pick<Runtime, 'identities' | 'config'>,
  reports: readonly IdentityReport[],
  health: IdentityHealth,
  logger: Logger,
  options: { firstDelayMs?: number; timeoutMs?: number } = {},
): () => void {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (const report of reports.filter((r) => r.degraded)) {
    const schedule = (delayMs: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt(delayMs);
      }, delayMs);
      timer.unref();
      timers.add(timer);
    };
    const attempt = async (lastDelayMs: number) => {
      const r = await checkIdentity(runtime, report.role, options.timeoutMs ?? 15_000).catch(() => null);
      if (stopped) return;
      if (!r || r.ok) {
        await health.set({ identity: report.identity, state: 'ok', detail: r?.detail ?? 'ok' });
        logger.info({ identity: report.identity }, `Dfns identity recovered: ${r?.detail ?? 'ok'}`);
        return;
      }
      await health.set({ identity: report.identity, state: r.degraded ? 'degraded' : 'failed', detail: r.detail });
      if (!r.degraded) {
        logger.error({ identity: report.identity }, `Dfns identity failed: ${r.detail}`);
        return;
      }
      const next = Math.min(lastDelayMs * 2, MAX_RETRY_MS);
      logger.warn({ identity: report.identity, retryInMs: next }, `Dfns identity still degraded: ${r.detail}`);
      schedule(next);
    };
    schedule(options.firstDelayMs ?? IDENTITY_RETRY_MS);
  }
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
}
