import { z } from 'zod';
import { ULID_PATTERN } from './ids.js';

/**
 * The data each job carries: ids, names and reasons only, never a token or key (job data is
 * plain text in Redis and shown on the dashboard). Jobs can be added by hand from the dashboard,
 * so every processor validates its data with these schemas and fails the job with a message
 * naming the bad field.
 */

export const QUEUE_NAMES = ['scan', 'rotate', 'retire', 'notify'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const scanJobSchema = z.strictObject({
  trigger: z.enum(['schedule', 'manual', 'startup', 'catch-up']).default('manual'),
  /** The cron tick this scan belongs to (ISO minute), for scheduled scans. */
  tick: z.string().optional(),
  requestedBy: z.string().max(200).optional(),
  /** Only classify and report: enqueue no rotation. */
  dryRun: z.boolean().optional(),
});
export type ScanJobData = z.infer<typeof scanJobSchema>;

export const rotateJobSchema = z.strictObject({
  /**
   * Which credential: a secret name (`payments/api-bot`), a credential key (`sa:us-…`,
   * `pat:to-…`), or a bare Dfns id (`us-…`, `to-…`). Resolved against the store by the worker.
   */
  credential: z.string().min(1, 'name the credential: a secret name, sa:<id>, pat:<id>, or a Dfns id').max(200),
  reason: z.string().trim().min(3, 'say why (at least 3 characters): it goes to the audit log and Slack').max(500),
  requestedBy: z.string().max(200).optional(),
  /** Minted by whoever enqueues; the worker mints one when absent (dashboard jobs). */
  rotationId: z.string().regex(ULID_PATTERN, 'must be a ULID').optional(),
  /** Overrides the configured strategy for this rotation. */
  strategy: z.enum(['replace', 'rekey']).optional(),
  /** Resume a rotation parked for policy approval. */
  resume: z.boolean().optional(),
  /** When the rotation was asked for (epoch ms); a secret rotated after that is not rotated again. Default: the job's creation time. */
  requestedAt: z.number().int().positive().optional(),
});
export type RotateJobData = z.infer<typeof rotateJobSchema>;

export const retireJobSchema = z.strictObject({
  rotationId: z.string().regex(ULID_PATTERN, 'must be a ULID'),
  phase: z.enum(['deactivate', 'archive']),
});
/** Formats zod issues as `field: problem; field: problem` for a job's failure message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
}
