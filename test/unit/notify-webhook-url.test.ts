import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/notify/slack-errors.js';
import { describeWebhook, maskWebhookUrl, scrubWebhookUrl } from '../../src/notify/webhook-url.js';

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
