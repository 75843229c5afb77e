import type { Clock, Sleep } from '../clock.js';
import { notifyRetryAfterMs } from './errors.js';
import type { Notification, Notifier } from './types.js';

/**
 * Paces sends per webhook outside BullMQ (the CLI): Slack accepts about one message per second
 * per webhook and answers bursts with 429. Sends for one key run one at a time, in call order,
 * each starting at least `minIntervalMs` after the previous one started; different keys do not
 * wait for each other. A rate-limited failure pushes the next start past its Retry-After.
 * The daemon uses BullMQ's limiter on the notify queue instead.
 */
export interface WebhookPacer {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

export interface PacerOptions {
  clock: Clock;
  sleep: Sleep;
  /** Default 1000 ms: Slack's documented 1 message/s per webhook. */
  minIntervalMs?: number;
}

export function createWebhookPacer(options: PacerOptions): WebhookPacer {
  const { clock, sleep } = options;
  const interval = options.minIntervalMs ?? 1000;
  const lanes = new Map<string, { tail: Promise<unknown>; nextAt: number }>();

  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      let lane = lanes.get(key);
      if (!lane) {
        lane = { tail: Promise.resolve(), nextAt: Number.NEGATIVE_INFINITY };
        lanes.set(key, lane);
      }
      const current = lane;
      const result = current.tail.then(async () => {
        const wait = current.nextAt - clock.now();
        if (wait > 0) await sleep(wait);
        current.nextAt = clock.now() + interval;
        try {
          return await task();
        } catch (err) {
          const retryAfter = notifyRetryAfterMs(err);
          if (retryAfter !== undefined) current.nextAt = Math.max(current.nextAt, clock.now() + retryAfter);
          throw err;
        }
      });
      // The lane continues after a failure; the caller still sees it through `result`.
      current.tail = result.catch(() => undefined);
      return result;
    },
  };
}

/**
 * A Notifier whose sends go through a pacer. The default key is the masked description, so two
 * webhooks on the same host share one lane: slower than needed, never faster.
 */
export function pacedNotifier(inner: Notifier, pacer: WebhookPacer, key = inner.description): Notifier {
  return {
    description: inner.description,
    send: (n: Notification) => pacer.run(key, () => inner.send(n)),
  };
}
