import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { isPermanentNotifyError, notifyRetryAfterMs } from '../notify/errors.js';
import { notificationSchema } from '../notify/schema.js';
import type { Notification, Notifier } from '../notify/types.js';
import { describeIssues } from './queues/job-data.js';
import { jobIds } from './queues/ids.js';
import { NOTIFY_JOB_OPTIONS } from './queues/job-options.js';


/** Slack allows about one message per second per webhook; BullMQ's limiter holds it across all workers. */
export const NOTIFY_LIMITER = { max: 1, duration: 1000 };

export interface NotifyDeps {
  notifier: Notifier;
  /** The notify queue, to pause it for as long as Slack's Retry-After says. */
  queue: Pick<Queue, 'rateLimit'>;
  logger: Logger;
  metrics?: Pick<Metrics, 'notification'>;
}

/**
 * Delivers one notification. A failure never reaches a scan or a rotation: the message waits
 * in this queue and is retried with backoff; a 429 pauses the whole queue for Retry-After.
 */
export function createNotifyProcessor(deps: NotifyDeps) {
  return async (job: Job): Promise<{ delivered: true; via: string }> => {
    const parsed = notificationSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid notification data: ${describeIssues(parsed.error)}`);
    const count = (outcome: Parameters<Metrics['notification']>[1]) => deps.metrics?.notification(parsed.data.type, outcome);
    try {
      await deps.notifier.send(parsed.data);
      count('delivered');
    } catch (err) {
      const wait = notifyRetryAfterMs(err);
      if (wait !== undefined) {
        count('rate-limited');
        deps.logger.warn({ jobId: job.id, waitMs: wait }, 'notifier rate limited; pausing notifications');
        await deps.queue.rateLimit(wait);
        throw Worker.RateLimitError();
      }
      if (isPermanentNotifyError(err)) {
        count('failed');
        throw new UnrecoverableError((err as Error).message);
      }
      count('retrying');
      throw err;
    }
    return { delivered: true, via: deps.notifier.description };
  };
}

export interface NotifyEnqueuer {
  /** Queues a notification; with a dedupe key, the same key is queued at most once while its job is kept. */
  enqueue(notification: Notification, dedupeKey?: string): Promise<void>;
  /** Queues many in one round trip (BullMQ `addBulk`: one MULTI), in order. */
  enqueueAll(notifications: readonly Notification[]): Promise<void>;
}

export function notifyEnqueuer(queue: Pick<Queue, 'add' | 'addBulk'>, options: { backoffDelayMs?: number } = {}): NotifyEnqueuer {
  const jobOptions = options.backoffDelayMs === undefined ? NOTIFY_JOB_OPTIONS : { ...NOTIFY_JOB_OPTIONS, backoff: { type: 'exponential' as const, delay: options.backoffDelayMs } };
  return {
    async enqueue(notification, dedupeKey) {
      await queue.add(notification.type, notification, {
        ...jobOptions,
        ...(dedupeKey ? { jobId: jobIds.notify(dedupeKey) } : {}),
      });
    },
    async enqueueAll(notifications) {
      if (notifications.length === 0) return;
      await queue.addBulk(notifications.map((n) => ({ name: n.type, data: n, opts: jobOptions })));
    },
  };
}
