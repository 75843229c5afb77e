import { z } from 'zod';
import { rotateJobSchema, scanJobSchema } from '../jobs/queues/job-data.js';

/**
 * What bull-board shows beside each queue: a description, and a JSON Schema for "Add job". The
 * add-job dialog pre-fills the job data with the schema's first example, so an operator starts
 * from a valid manual trigger. Hints only: the workers validate job data themselves.
 */
export interface QueueHint {
  description: string;
  jobDataSchema?: Record<string, unknown>;
}

function schemaWithExample(schema: z.ZodType, example: Record<string, unknown>): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return { ...json, examples: [example] };
}

/**
 * `exampleSecret`: a secret the store really holds (the daemon passes its first), so the
 * pre-filled rotate job works as it stands; without one, a placeholder that says what to put.
 */
export function queueHints(options: { secretNames?: readonly string[] } = {}): Record<string, QueueHint> {
  const names = options.secretNames ?? [];
  const credential = names[0] ?? '<secret name from the inventory>';
  const some = names.length === 0 ? '' : ` Secrets in the store: ${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … (${names.length} in all; see the inventory)` : ''}.`;
  return {
    scan: {
      description: 'Inventory every credential and classify it. Manual trigger: Add job, job name "scan", data {"trigger":"manual"}.',
      jobDataSchema: schemaWithExample(scanJobSchema, { trigger: 'manual' }),
    },
    rotate: {
      description:
        `Rotate one credential. Manual trigger: Add job, job name "rotate", data {"credential": "<secret name, sa:<id>, pat:<id> or Dfns id>", "reason": "why"}.${some}`,
      jobDataSchema: schemaWithExample(rotateJobSchema, { credential, reason: 'manual rotation from the dashboard' }),
    },
    retire: { description: 'Deactivates and later archives replaced credentials after the overlap window. Scheduled by rotations (Add job is refused here).' },
    notify: { description: 'Slack (or log) notifications, at most about one per second per webhook. Queued by the daemon (Add job is refused here).' },
  };
}
