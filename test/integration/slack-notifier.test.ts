import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { exampleNotifications } from '../fixtures/notifications.js';
import {
  LogNotifier,
  NotifyPermanentError,
  NotifyRateLimitedError,
  NotifyTransientError,
  SlackNotifier,
  createNotifier,
  isPermanentNotifyError,
  notifyRetryAfterMs,
} from '../../src/notify/index.js';
import type { Notification } from '../../src/notify/types.js';
import { FakeSlack, SECRET_PATH, SECRET_TOKEN, type Responder } from '../helpers/fake-slack.js';

const NOW = Date.UTC(2025, 2, 10, 12, 0);

/** A pino logger writing into memory. */
function capturedLogger(level = 'debug') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines };
}

/** Everything about an error a consumer might print, log or serialise. */
function everythingAbout(err: unknown): string {
  return [String(err), (err as Error).stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)].join('\n');
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the send to fail');
}

const examples = exampleNotifications(NOW);

describe('SlackNotifier against a local webhook server', () => {
  const slack = new FakeSlack();
  const { logger, lines } = capturedLogger();
  const clock = new ManualClock(NOW);
  let notifier: SlackNotifier;

  beforeAll(async () => {
    await slack.start();
    notifier = new SlackNotifier({ webhookUrl: slack.webhookUrl, allowAnyHost: true, logger, clock, timeoutMs: 2000 });
  });

  afterEach(() => {
    slack.received.length = 0;
    slack.respond = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });

  afterAll(async () => {
    const target = notifier.description;
    await slack.stop();
    // Every line any test here logged (deliveries, failures, the queue-style error logs) is free of the secret path.
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(all).not.toContain(SECRET_TOKEN);
    expect(all).not.toContain('T0FAKE99');
    expect(all).toContain(target);
  });

  it.each(Object.values(examples).map((n) => [n.type, n] as const))('delivers %s as JSON with text and blocks', async (_type, n: Notification) => {
    await notifier.send(n);
    expect(slack.received).toHaveLength(1);
    const [req] = slack.received;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(SECRET_PATH);
    expect(req!.contentType).toBe('application/json');
    expect(typeof req!.body.text).toBe('string');
    expect((req!.body.text as string).length).toBeGreaterThan(0);
    expect(Array.isArray(req!.body.blocks)).toBe(true);
    expect((req!.body.blocks as { type: string }[])[0]!.type).toBe('header');
  });

  it('renders times from the injected clock at send time', async () => {
    clock.set(NOW + 24 * 3_600_000);
    try {
      await notifier.send(examples['expiry-warning']);
    } finally {
      clock.set(NOW);
    }
    expect(slack.received[0]!.body.text).toContain('expires in 1 day');
  });

  it('429 with Retry-After: 3 -> NotifyRateLimitedError(3000 ms), no retry of its own', async () => {
    slack.respond = (_req, res) => res.writeHead(429, { 'retry-after': '3' }).end('rate_limited');
    const err = await failureOf(notifier.send(examples['scan-digest']));
    expect(err).toBeInstanceOf(NotifyRateLimitedError);
    expect(err).toMatchObject({ code: 'NOTIFY_RATE_LIMITED', retryAfterMs: 3000, status: 429, retryable: true });
    expect(notifyRetryAfterMs(err)).toBe(3000);
    // A deserialised copy (as BullMQ would hand it back) still carries the wait.
    expect(notifyRetryAfterMs(JSON.parse(JSON.stringify(err)))).toBe(3000);
    expect(slack.received).toHaveLength(1);
  });

  it('429 with an HTTP-date Retry-After waits until that date by the injected clock', async () => {
    slack.respond = (_req, res) => res.writeHead(429, { 'retry-after': new Date(NOW + 7000).toUTCString() }).end();
    const err = await failureOf(notifier.send(examples['scan-digest']));
    expect(notifyRetryAfterMs(err)).toBe(7000);
  });

  it('429 without Retry-After falls back to 1 s', async () => {
    slack.respond = (_req, res) => res.writeHead(429).end();
    const err = await failureOf(notifier.send(examples['scan-digest']));
    expect(notifyRetryAfterMs(err)).toBe(1000);
  });

  it.each([
    [500, 'rollup_error'],
    [502, '<html>bad gateway</html>'],
    [503, ''],
  ])('%d -> NotifyTransientError, sent once', async (status, body) => {
    slack.respond = (_req, res) => res.writeHead(status).end(body);
    const err = await failureOf(notifier.send(examples['rotation-failed']));
    expect(err).toBeInstanceOf(NotifyTransientError);
    expect(err).toMatchObject({ code: 'NOTIFY_TRANSIENT', status, retryable: true });
    expect((err as Error).message).toContain(`Slack answered ${status}`);
    // An arbitrary body (a proxy page) is not repeated in the message.
    expect((err as Error).message).not.toContain('<html>');
    expect(slack.received).toHaveLength(1);
  });

  it('a dropped connection -> NotifyTransientError', async () => {
    slack.respond = (req) => req.socket.destroy();
    const err = await failureOf(notifier.send(examples['rotation-succeeded']));
    expect(err).toBeInstanceOf(NotifyTransientError);
    expect((err as Error).message).toMatch(/request failed/);
    expect(everythingAbout(err)).not.toContain(SECRET_TOKEN);
  });

  it.each([
    [404, 'no_service', 'the webhook was removed'],
    [403, 'invalid_token', 'token was revoked'],
    [410, 'channel_is_archived', 'the channel is archived'],
    [400, 'invalid_blocks', 'a dfns-rotator bug'],
    [404, 'something_new', 'retrying will not help'],
  ])('%d %s -> NotifyPermanentError naming the cause', async (status, body, hint) => {
    slack.respond = (_req, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    const err = await failureOf(notifier.send(examples['credential-retired']));
    expect(err).toBeInstanceOf(NotifyPermanentError);
    expect(err).toMatchObject({ code: 'NOTIFY_PERMANENT', status, slackError: body, retryable: false });
    expect(isPermanentNotifyError(err)).toBe(true);
    expect((err as Error).message).toContain(`Slack answered ${status} ${body}`);
    expect((err as Error).message).toContain(hint);
    expect(slack.received).toHaveLength(1);
  });

  it('a redirect is refused, not followed -> NotifyPermanentError', async () => {
    slack.respond = (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${slack.port}/elsewhere` }).end();
    const err = await failureOf(notifier.send(examples['rotation-parked']));
    expect(err).toBeInstanceOf(NotifyPermanentError);
    expect((err as Error).message).toContain('redirect');
    expect(slack.received.map((r) => r.url)).toEqual([SECRET_PATH]);
  });

  it('no error, however it is printed, contains the webhook URL', async () => {
    const cases: Responder[] = [
      (_req, res) => res.writeHead(429, { 'retry-after': '3' }).end(),
      (_req, res) => res.writeHead(500).end(SECRET_PATH),
      (_req, res) => res.writeHead(404).end(`no_service ${SECRET_PATH}`),
      (req) => req.socket.destroy(),
    ];
    for (const respond of cases) {
      slack.respond = respond;
      const err = await failureOf(notifier.send(examples['expiry-warning']));
      expect(everythingAbout(err)).not.toContain(SECRET_TOKEN);
      expect((err as Error).message).toContain(`slack:127.0.0.1:${slack.port}/***`);
      // As a consumer (the queue) would log it.
      logger.error({ err }, 'notification failed');
    }
    expect(notifier.description).toBe(`slack:127.0.0.1:${slack.port}/***`);
    expect(inspect(notifier, { depth: 5 }) + JSON.stringify(notifier)).not.toContain(SECRET_TOKEN);
  });
});

describe('SlackNotifier timeouts and unreachable webhooks', () => {
  it('a server that never answers -> NotifyTransientError after the timeout', async () => {
    const slack = new FakeSlack();
    slack.respond = () => {
      // never answers; the notifier's 200 ms request timeout must end the call
    };
    await slack.start();
    try {
      const notifier = new SlackNotifier({ webhookUrl: slack.webhookUrl, allowAnyHost: true, timeoutMs: 200 });
      const err = await failureOf(notifier.send(examples['scan-digest']));
      expect(err).toBeInstanceOf(NotifyTransientError);
      expect((err as Error).message).toContain('no answer within 200 ms');
      expect(slack.received).toHaveLength(1);
    } finally {
      await slack.stop();
    }
  });

  it('a refused connection -> NotifyTransientError without the URL', async () => {
    const slack = new FakeSlack();
    await slack.start();
    const url = slack.webhookUrl;
    await slack.stop();
    const { logger, lines } = capturedLogger();
    const err = await failureOf(new SlackNotifier({ webhookUrl: url, allowAnyHost: true, logger }).send(examples['scan-digest']));
    expect(err).toBeInstanceOf(NotifyTransientError);
    expect((err as Error).message).toMatch(/request failed: .*\(ECONNREFUSED\)/);
    expect(everythingAbout(err) + lines.join('')).not.toContain(SECRET_TOKEN);
  });
});

describe('createNotifier', () => {
  it('builds a Slack notifier when a webhook URL is set, a log notifier otherwise', () => {
    const { logger } = capturedLogger();
    const slack = createNotifier({ slackWebhookUrl: `https://hooks.slack.com${SECRET_PATH}`, logger });
    expect(slack).toBeInstanceOf(SlackNotifier);
    expect(slack.description).toBe('slack:hooks.slack.com/***');
    expect(createNotifier({ logger })).toBeInstanceOf(LogNotifier);
    expect(createNotifier({ logger, slackWebhookUrl: '' }).description).toBe('log');
  });

  it.each([
    [`http://hooks.slack.com${SECRET_PATH}`, 'must be an https:// URL'],
    [`not a url ${SECRET_TOKEN}`, 'not a valid URL'],
    ['https://hooks.slack.com/', 'has no path'],
  ])('rejects %s with a ConfigError that does not echo it', (url, problem) => {
    const { logger } = capturedLogger();
    let err: unknown;
    try {
      createNotifier({ slackWebhookUrl: url, logger });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('slackWebhookUrl');
    expect((err as ConfigError).message).toContain(problem);
    expect(everythingAbout(err)).not.toContain(SECRET_TOKEN);
  });
});
