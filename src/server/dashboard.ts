import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import type { QueueHint } from './dashboard-hints.js';
import { DASHBOARD_PATH } from './dashboard-path.js';

/**
 * bull-board on the queues, read-write: its "Add job" is the manual trigger. Mounted behind the
 * auth guard. No data formatter is installed: job data holds ids and reasons only, never secrets
 * (src/jobs/queues/job-data.ts), and bull-board shows it as stored.
 */
export function dashboardRouter(queues: readonly Queue[], hints: Record<string, QueueHint>): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => {
      const hint = hints[queue.name];
      return new BullMQAdapter(queue, {
        readOnlyMode: false,
        allowRetries: true,
        ...(hint ? { description: hint.description } : {}),
        ...(hint?.jobDataSchema ? { jobDataSchema: hint.jobDataSchema } : {}),
      });
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'dfns-rotator',
        miscLinks: [
          { text: 'Inventory', url: '/inventory' },
          { text: 'Log out', url: '/logout' },
        ],
        hideDocsLink: true,
        sortQueues: false,
      },
    },
  });
  // bull-board's adapter is an Express app of its own, which announces itself on every answer.
  const router = serverAdapter.getRouter() as Router & { disable?: (setting: string) => unknown };
  router.disable?.('x-powered-by');
  return router;
}
