import type { Queue } from 'bullmq';
import { jobIds } from './ids.js';
import { ROTATE_JOB_OPTIONS } from './job-options.js';
import type { RotateJobData } from './job-data.js';

/**
 * Rotation jobs: one job per rotation (id from its rotation id, so the dashboard keeps each
 * rotation's history), and BullMQ deduplication per secret, so at most one rotation of a secret
 * waits or runs at a time however many scans or daemons ask for it.
 */
export interface RotationRequest extends Omit<RotateJobData, 'credential'> {
  /** The secret the credential resolves to (dedupe key, and the job's `credential`); resolved by the caller. */
  secretName: string;
  rotationId: string;
}

/** Returns true when the job was queued, false when a rotation of the secret is already waiting or running. */
export async function enqueueRotation(queue: Pick<Queue, 'add'>, request: RotationRequest, options: { backoffDelayMs?: number } = {}): Promise<boolean> {
  const { secretName, ...data } = request;
  const jobId = jobIds.rotate(request.rotationId);
  const job = await queue.add('rotate', { ...data, credential: secretName }, {
    ...ROTATE_JOB_OPTIONS,
    ...(options.backoffDelayMs !== undefined ? { backoff: { type: 'exponential' as const, delay: options.backoffDelayMs } } : {}),
    jobId,
    deduplication: { id: jobIds.rotateDedupe(secretName) },
  });
  return job.id === jobId;
}
