import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { renderNotification } from './format.js';
import { unescapeMrkdwn } from './format-text.js';
import type { Notification, Notifier } from './types.js';

export interface LogNotifierOptions {
  logger: Logger;
  clock?: Clock;
}

type Level = 'info' | 'warn' | 'error';

/**
 * Writes notifications to the log when no webhook is configured: the same plain text Slack would
 * show (unescaped: a log is not parsed for mentions), plus fields to filter on. Never fails.
 */
export class LogNotifier implements Notifier {
  readonly description = 'log';
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(options: LogNotifierOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
  }

  async send(notification: Notification): Promise<void> {
    const { text } = renderNotification(notification, { now: this.#clock.now() });
    this.#logger[levelOf(notification)](notificationFields(notification), unescapeMrkdwn(text));
  }
}

/** Ids and states only: everything in a notification is safe to log, but keep lines small. */
export function notificationFields(n: Notification): Record<string, unknown> {
  const base = { notification: n.type };
  switch (n.type) {
    case 'expiry-warning':
      return {
        ...base,
        credentialKey: n.credential.key,
        state: n.state,
        expiresAt: n.credential.expiresAt,
        expirySource: n.credential.expirySource,
        daysLeft: n.daysLeft,
        thresholdDays: n.thresholdDays,
        ownIdentity: n.credential.isOwnIdentity === true,
      };
    case 'expiry-batch':
      return { ...base, scanId: n.scanId, count: n.count, counts: n.counts };
    case 'scan-digest':
      return { ...base, scanId: n.scanId, total: n.total, counts: n.counts, rotationsQueued: n.rotationsQueued, identityErrors: n.errors.length };
    case 'rotation-succeeded':
      return { ...base, rotationId: n.rotationId, credentialKey: n.credential.key, newCredentialId: n.newCredentialId, retireAt: n.retireAt };
    case 'rotation-failed':
    case 'rotation-attention':
      return { ...base, rotationId: n.rotationId, credentialKey: n.credential.key, step: n.step };
    case 'rotation-parked':
      return { ...base, rotationId: n.rotationId, credentialKey: n.credential.key, step: n.step, approvalId: n.approvalId };
    case 'credential-retired':
      return { ...base, rotationId: n.rotationId, credentialKey: n.credential.key, outcome: n.outcome };
    case 'retire-postponed':
      return { ...base, rotationId: n.rotationId, credentialKey: n.credential.key, outcome: n.outcome, lastUseAt: n.lastUseAt, retireAt: n.retireAt };
    case 'store-damaged':
      return { ...base, secretName: n.secretName, where: n.where };
  }
}

function levelOf(n: Notification): Level {
  switch (n.type) {
    case 'rotation-failed':
    case 'store-damaged':
      return 'error';
    case 'expiry-warning':
      return n.state === 'expired' || n.credential.isOwnIdentity ? 'error' : 'warn';
    case 'rotation-parked':
    case 'rotation-attention':
    case 'expiry-batch':
    case 'retire-postponed':
      return 'warn';
    case 'scan-digest':
      return n.counts.expired > 0 || n.errors.length > 0 ? 'warn' : 'info';
    default:
      return 'info';
  }
}
