import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { LogNotifier } from './log-notifier.js';
import { SlackNotifier } from './slack.js';
import type { Notifier } from './types.js';

export type { CredentialSummary, Notification, NotificationType, Notifier, RenderedMessage } from './types.js';
export {
  NotifyError,
  NotifyPermanentError,
  NotifyRateLimitedError,
  NotifyTransientError,
  isPermanentNotifyError,
  notifyRetryAfterMs,
  type NotifyErrorCode,
} from './errors.js';
export { renderNotification, type RenderOptions } from './format.js';
export { SLACK_LIMITS } from './format-blocks.js';
export { SlackNotifier, DEFAULT_SLACK_TIMEOUT_MS, type SlackNotifierOptions } from './slack.js';
export { LogNotifier, notificationFields, type LogNotifierOptions } from './log-notifier.js';
export { createWebhookPacer, pacedNotifier, type PacerOptions, type WebhookPacer } from './throttle.js';
export { assertWebhookUrl, describeWebhook, maskWebhookUrl, webhookUrlProblem } from './webhook-url.js';

export type NotifierKind = 'slack' | 'log';

export interface NotifierSettings {
  /** Secret. Without it, notifications go to the log. */
  slackWebhookUrl?: string;
  /** `slack.allowAnyHost`. */
  slackAllowAnyHost?: boolean;
  logger: Logger;
  clock?: Clock;
  dashboardUrl?: string;
  timeoutMs?: number;
  maxUrgent?: number;
}

// A new notifier kind does not compile until it is wired here.
const FACTORIES: Record<NotifierKind, (s: NotifierSettings) => Notifier> = {
  slack: (s) =>
    new SlackNotifier({
      webhookUrl: s.slackWebhookUrl ?? '',
      allowAnyHost: s.slackAllowAnyHost ?? false,
      logger: s.logger,
      clock: s.clock ?? systemClock,
      ...(s.dashboardUrl === undefined ? {} : { dashboardUrl: s.dashboardUrl }),
      ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
      ...(s.maxUrgent === undefined ? {} : { maxUrgent: s.maxUrgent }),
    }),
  log: (s) => new LogNotifier({ logger: s.logger, clock: s.clock ?? systemClock }),
};

export function notifierKind(settings: Pick<NotifierSettings, 'slackWebhookUrl'>): NotifierKind {
  return settings.slackWebhookUrl ? 'slack' : 'log';
}

/**
 * The notifier the settings call for: Slack when a webhook URL is set (validated; a bad URL
 * throws ConfigError without echoing it), otherwise the log.
 */
export function createNotifier(settings: NotifierSettings): Notifier {
  return FACTORIES[notifierKind(settings)](settings);
}
