import express, { type Express } from 'express';
import type { Queue } from 'bullmq';
import type { QueueHint } from './dashboard-hints.js';

/**
 * bull-board, loaded on the first request under /dashboard rather than at start-up: its modules
 * are about 7 MB of heap and 12 MB of RSS, which a replica nobody opens the dashboard on never
 * needs (the probes, /metrics and the inventory do not use it). Concurrent first requests share
 * one load; a failed load answers 500 and is tried again on the next request.
 */
export function lazyDashboard(queues: readonly Queue[], hints: Record<string, QueueHint>): Express {
  const mount = express();
  mount.disable('x-powered-by');
  let loading: Promise<void> | undefined;
  mount.use((_req, _res, next) => {
    loading ??= import('./dashboard.js').then(({ dashboardRouter }) => {
      // Appended behind this loader: the request that triggered the load goes on to it.
      mount.use(dashboardRouter(queues, hints));
    });
    loading.then(
      () => next(),
      (err: unknown) => {
        loading = undefined;
        next(err);
      },
    );
  });
  return mount;
}
