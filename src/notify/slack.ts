import { IncomingWebhook, type FetchFunction, type IncomingWebhookSendArguments } from '@slack/webhook';
import { systemClock, type Clock } from '../clock.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NotifyError } from './errors.js';
import { renderNotification } from './format.js';
import { toNotifyError, type ObservedResponse } from './slack-errors.js';
import type { Notification, Notifier, RenderedMessage } from './types.js';
import { assertWebhookUrl, describeWebhook } from './webhook-url.js';

export interface SlackNotifierOptions {
  /** The incoming-webhook URL: a secret. Kept in a private field and never logged. */
  webhookUrl: string;
  /** `slack.allowAnyHost`: a host other than Slack's hooks host (see webhook-url.ts). Default false. */
  allowAnyHost?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** Abort a request that has not completed after this long (default 10 s). */
  timeoutMs?: number;
  /** Wait used when a 429 carries no usable Retry-After (default 1 s, Slack's 1 message/s). */
  defaultRetryAfterMs?: number;
  dashboardUrl?: string;
  maxUrgent?: number;
}

export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/**
 * Posts one message per call to a Slack incoming webhook and reports failure as a NotifyError
 * (rate limited / transient / permanent). It never retries by itself: the notify queue (or the
 * CLI's pacer) owns retries and pacing, so one failure is never hidden behind another's wait.
 */
export class SlackNotifier implements Notifier {
  readonly description: string;
  readonly #url: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #defaultRetryAfterMs: number;
  readonly #dashboardUrl: string | undefined;
  readonly #maxUrgent: number | undefined;

  constructor(options: SlackNotifierOptions) {
    assertWebhookUrl(options.webhookUrl, 'slackWebhookUrl', { allowAnyHost: options.allowAnyHost ?? false });
    const timeoutMs = options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`SlackNotifier timeoutMs must be a positive integer, got ${timeoutMs}`);
    }
    this.#url = options.webhookUrl;
    this.description = describeWebhook(options.webhookUrl);
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = timeoutMs;
    this.#defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
    this.#dashboardUrl = options.dashboardUrl;
    this.#maxUrgent = options.maxUrgent;
  }

  async send(notification: Notification): Promise<void> {
    const message = renderNotification(notification, {
      now: this.#clock.now(),
      ...(this.#dashboardUrl === undefined ? {} : { dashboardUrl: this.#dashboardUrl }),
      ...(this.#maxUrgent === undefined ? {} : { maxUrgent: this.#maxUrgent }),
    });
    await this.sendRendered(message, notification.type);
  }

  /** Posts an already rendered message; `label` only names it in logs. */
  async sendRendered(message: RenderedMessage, label = 'message'): Promise<void> {
    // The library's HTTP error keeps the status and body but drops the headers, so the wrapper
    // records what it saw (Retry-After) for this one request. One IncomingWebhook per call keeps
    // concurrent sends from sharing that record; constructing one is cheap.
    let observed: ObservedResponse | undefined;
    const observingFetch: FetchFunction = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      observed = { status: response.status, retryAfter: response.headers.get('retry-after') };
      return response;
    };
    const webhook = new IncomingWebhook(this.#url, {
      timeout: this.#timeoutMs,
      // The library's default is no retries; say so explicitly, retries belong to the queue.
      retryConfig: { retries: 0 },
      fetch: observingFetch,
    });
    const payload: IncomingWebhookSendArguments = {
      text: message.text,
      blocks: message.blocks as IncomingWebhookSendArguments['blocks'],
    };
    try {
      await webhook.send(payload);
    } catch (err) {
      const failure: NotifyError = toNotifyError(err, observed, {
        target: this.description,
        webhookUrl: this.#url,
        timeoutMs: this.#timeoutMs,
        now: this.#clock.now(),
        defaultRetryAfterMs: this.#defaultRetryAfterMs,
      });
      this.#logger.debug(
        { target: this.description, notification: label, code: failure.code, status: failure.status, slackError: failure.slackError },
        `slack notification not delivered: ${failure.message}`,
      );
      throw failure;
    }
    this.#logger.debug({ target: this.description, notification: label, status: observed?.status }, 'slack notification delivered');
  }
}
