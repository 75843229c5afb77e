import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/notify/slack-errors.js';
import { describeWebhook, maskWebhookUrl, scrubWebhookUrl, webhookUrlProblem } from '../../src/notify/webhook-url.js';

const NOW = Date.UTC(2025, 2, 10, 12, 0);

describe('webhook URL masking', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/secret', 'https://hooks.slack.com/***', 'slack:hooks.slack.com/***'],
    ['http://127.0.0.1:8080/hook/secret?x=secret2', 'http://127.0.0.1:8080/***', 'slack:127.0.0.1:8080/***'],
    ['https://user:pw@relay.internal/any/secret', 'https://relay.internal/***', 'slack:relay.internal/***'],
    ['not a url', '(unparseable url)', 'slack:(unparseable url)'],
  ])('%s -> %s', (url, masked, described) => {
    expect(maskWebhookUrl(url)).toBe(masked);
    expect(describeWebhook(url)).toBe(described);
  });

  it('scrubs the URL, its path, and its password from any text', () => {
    const url = 'https://u:pw123456@relay.internal/services/T0/B0/s3cret?k=v';
    const text = `failed ${url} then /services/T0/B0/s3cret?k=v and /services/T0/B0/s3cret, pw pw123456`;
    const out = scrubWebhookUrl(text, url);
    expect(out).not.toContain('s3cret');
    expect(out).not.toContain('pw123456');
    expect(out).toBe('failed *** then *** and ***, pw ***');
  });
});

describe('Retry-After', () => {
  it.each([
    ['3', 3000],
    ['0', 0],
    ['1.5', 1500],
    [' 30 ', 30_000],
    [new Date(NOW + 7000).toUTCString(), 7000],
    [new Date(NOW - 7000).toUTCString(), 0],
    ['soon', 1000],
    ['-1', 1000],
    ['999999', 3_600_000],
  ])('%j -> %d ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW, 1000)).toBe(ms);
  });

  it('falls back when the header is missing', () => {
    expect(parseRetryAfter(null, NOW, 1234)).toBe(1234);
  });
});

describe('webhook URL rule (checked at config load and by the notifier)', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/secret', {}, null],
    ['https://hooks.slack-gov.com/services/T0/B0/secret', {}, null],
    ['http://hooks.slack.com/services/T0/B0/secret', {}, 'must be an https:// URL (got http://hooks.slack.com/***)'],
    ['https://relay.internal/services/T0/B0/secret', {}, 'relay.internal is not a Slack webhook host (hooks.slack.com, hooks.slack-gov.com); to post through a relay or proxy, set slack.allowAnyHost: true (DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST=true)'],
    ['http://127.0.0.1:9999/hook/secret', {}, 'must be an https:// URL (got http://127.0.0.1:9999/***)'],
    ['https://relay.internal/services/T0/B0/secret', { allowAnyHost: true }, null],
    ['http://127.0.0.1:9999/hook/secret', { allowAnyHost: true }, null],
    ['http://relay.internal/hook/secret', { allowAnyHost: true }, 'must be an https:// URL; plain http is accepted on loopback only, where the secret stays on this machine (got http://relay.internal/***)'],
    ['https://hooks.slack.com/', {}, 'has no path; a Slack webhook URL looks like https://hooks.slack.com/services/…'],
    ['hooks.slack.com/services/secret', {}, 'not a valid URL (value not shown: it is a secret)'],
  ])('%s %j', (url, rules, problem) => {
    expect(webhookUrlProblem(url, rules)).toBe(problem);
    if (problem) expect(problem).not.toContain('secret/');
  });
});
