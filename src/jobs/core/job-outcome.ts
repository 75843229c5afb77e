import { errorCode, RotatorError } from '../../errors.js';
import { RotationPlanError } from '../effects/rotation-plan.js';

/**
 * What a rotate job does with an error a step threw. The one place that decides whether an error
 * is permanent; each caller maps the outcome to its own move:
 *
 * - `roll-back`: Dfns refused for good (a 4xx that resending cannot change, an answer we cannot
 *   read, a request this process could not build). Before a rotation record exists the job fails
 *   (nothing to undo); after, the step reports a `permanent-failure` and the machine removes what
 *   the rotation created.
 * - `unrecoverable`: our own input cannot work (a `RotationPlanError`: the store changed by hand, no
 *   operator identity, a credential unknown). Resolving the secret, planning and create stop for
 *   good; verify leaves it to BullMQ's attempts (the identity may be configured meanwhile).
 * - `retry`: anything else: a transient Dfns or store failure, an error we do not know, and the
 *   Dfns answers a step handles itself before asking (409 name taken or duplicate key, an approval
 *   pending, a lost create): BullMQ retries the step, which resumes from the last saved record.
 *
 * By `code`, not `instanceof` alone: errors that came back through Redis are plain objects.
 */
export type JobOutcome = 'retry' | 'unrecoverable' | 'roll-back';

const PERMANENT_DFNS_CODES: ReadonlySet<string> = new Set(['DFNS_VALIDATION', 'DFNS_FORBIDDEN', 'DFNS_NOT_FOUND', 'DFNS_UNAUTHORIZED', 'DFNS_PAYMENT_REQUIRED', 'DFNS_INVALID_ANSWER', 'DFNS_CLIENT']);

export function toJobOutcome(err: unknown): JobOutcome {
  if (err instanceof RotationPlanError) return 'unrecoverable';
  const code = errorCode(err);
  if (code !== undefined && PERMANENT_DFNS_CODES.has(code)) return 'roll-back';
  return 'retry';
}

/**
 * Whether a failed store write is worth trying again at once, inside the same step (a concurrent
 * write, a busy lock, a store's own retryable answer, EAGAIN/EBUSY). A store that is out or
 * unwritable after its own retries is not (that would multiply the adapter's retries): its
 * `unwritable` code is passed in, and the caller's held-token path waits it out.
 */
export function retriesInPlace(err: unknown, unwritable: string | null): boolean {
  const code = errorCode(err);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const flagged = err instanceof RotatorError && err.retryable && unwritable === null;
  return flagged || code === 'SECRET_CONFLICT' || code === 'SECRET_LOCKED' || errno === 'EAGAIN' || errno === 'EBUSY';
}
