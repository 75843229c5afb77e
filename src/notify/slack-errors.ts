import { IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import { NotifyPermanentError, NotifyRateLimitedError, NotifyTransientError, type NotifyError } from './errors.js';
import { scrubWebhookUrl } from './webhook-url.js';

/**
 * The one place a Slack webhook outcome becomes a NotifyError. Slack answers failures with a
 * status and a short snake_case body (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
 * "Handling errors"); @slack/webhook 8 (fetch-based, no axios) turns non-2xx answers into
 * `IncomingWebhookHTTPError` and transport failures into `IncomingWebhookRequestError`.
 */

/** What the fetch wrapper saw of the response, since the library's error keeps no headers. */
export interface ObservedResponse {
  status: number;
  retryAfter: string | null;
}

export interface SlackErrorContext {
  target: string;
  webhookUrl: string;
  timeoutMs: number;
  now: number;
  /** Wait used when a 429 carries no usable Retry-After. */
  defaultRetryAfterMs: number;
}

/** Beyond this a Retry-After is more likely a broken proxy than Slack; the queue can still retry later. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

const SLACK_HINTS: Record<string, string> = {
  no_service: 'the webhook was removed or its Slack app uninstalled; configure a new webhook URL',
  invalid_token: 'the webhook token was revoked; configure a new webhook URL',
  no_team: 'the Slack workspace is gone or disabled',
  team_disabled: 'the Slack workspace is disabled',
  channel_not_found: 'the channel no longer exists; configure a webhook for another channel',
  channel_is_archived: 'the channel is archived; unarchive it or configure a webhook for another channel',
  action_prohibited: 'a workspace admin restricted posting to this channel',
  posting_to_general_channel_denied: 'only admins may post to this channel',
  user_not_found: 'the user that installed the webhook no longer exists',
  invalid_payload: 'Slack rejected the message format (a dfns-rotator bug; please report it)',
  invalid_blocks: 'Slack rejected the message blocks (a dfns-rotator bug; please report it)',
  invalid_blocks_format: 'Slack rejected the message blocks (a dfns-rotator bug; please report it)',
  too_many_attachments: 'Slack rejected the message size (a dfns-rotator bug; please report it)',
  no_text: 'Slack rejected an empty message (a dfns-rotator bug; please report it)',
};

export function toNotifyError(err: unknown, observed: ObservedResponse | undefined, ctx: SlackErrorContext): NotifyError {
  const target = ctx.target;
  if (err instanceof IncomingWebhookHTTPError) {
    const status = err.statusCode;
    const slackError = slackErrorCode(err.body);
    const said = slackError ? ` ${slackError}` : '';
    if (status === 429) {
      const wait = parseRetryAfter(observed?.retryAfter ?? null, ctx.now, ctx.defaultRetryAfterMs);
      return new NotifyRateLimitedError(wait, { target, status, slackError });
    }
    // 408 is the server giving up waiting for us: a retry can succeed, unlike other 4xx.
    if (status >= 500 || status === 408) {
      return new NotifyTransientError(`Slack answered ${status}${said}; retry later`, { target, status, slackError });
    }
    const hint = slackError ? SLACK_HINTS[slackError] : undefined;
    return new NotifyPermanentError(`Slack answered ${status}${said}: ${hint ?? 'the webhook refused the message; retrying will not help'}`, {
      target,
      status,
      slackError,
    });
  }
  if (err instanceof IncomingWebhookRequestError) {
    const original = err.original;
    if (original.name === 'TimeoutError' || original.name === 'AbortError') {
      return new NotifyTransientError(`no answer within ${ctx.timeoutMs} ms`, { target });
    }
    const causeMessage = messageOf((original as { cause?: unknown }).cause);
    if (/redirect/i.test(causeMessage) || /redirect/i.test(original.message)) {
      // Slack webhooks never redirect; following one would send the message (and URL) elsewhere.
      return new NotifyPermanentError('the webhook URL answered with a redirect, which is refused; check the URL', { target });
    }
    return new NotifyTransientError(`request failed: ${scrubWebhookUrl(networkReason(original), ctx.webhookUrl)}`, { target });
  }
  return new NotifyTransientError(`unexpected failure: ${scrubWebhookUrl(messageOf(err).slice(0, 200), ctx.webhookUrl)}`, { target });
}

/**
 * Retry-After is delta-seconds (what Slack sends) or an HTTP date (RFC 9110 §10.2.3). Missing,
 * unparseable or negative values fall back to `fallbackMs`; huge ones are capped.
 */
export function parseRetryAfter(header: string | null, now: number, fallbackMs: number): number {
  if (header === null) return fallbackMs;
  const value = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    ms = Math.ceil(Number(value) * 1000);
  } else if (/^[A-Za-z]{3}, /.test(value)) {
    // IMF-fixdate (`Mon, 10 Mar 2025 12:00:07 GMT`); Date.parse alone would accept "-1" as a year.
    const at = Date.parse(value);
    if (Number.isNaN(at)) return fallbackMs;
    ms = Math.max(0, at - now);
  } else {
    return fallbackMs;
  }
  return Number.isFinite(ms) ? Math.min(ms, MAX_RETRY_AFTER_MS) : fallbackMs;
}

/** Slack's error string, only when it looks like one: an arbitrary body (a proxy page) is not repeated. */
function slackErrorCode(body: string): string | undefined {
  const trimmed = body.trim();
  return /^[a-z][a-z0-9_]{0,63}$/.test(trimmed) ? trimmed : undefined;
}

/** `fetch failed (ECONNRESET)`: undici puts the useful part in `cause.code`. */
function networkReason(original: Error): string {
  const cause = (original as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  const base = original.message.slice(0, 200);
  return /^[A-Z0-9_]{2,40}$/.test(code) ? `${base} (${code})` : base;
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return value === undefined ? '' : String(value);
}
