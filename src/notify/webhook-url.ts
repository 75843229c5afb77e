import { ConfigError } from '../errors.js';

/**
 * A Slack incoming-webhook URL *is* the credential: anyone holding it can post to the channel.
 * The secret is the whole path (`/services/T…/B…/<token>`), so everything after the host is
 * hidden, for any host (a proxy or a local test server is no different from hooks.slack.com).
 */

/** `https://hooks.slack.com/***`: scheme and host only. */
export function maskWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '(unparseable url)';
  }
}

/** `slack:hooks.slack.com/***`: the notifier's public description. */
export function describeWebhook(url: string): string {
  try {
    return `slack:${new URL(url).host}/***`;
  } catch {
    return 'slack:(unparseable url)';
  }
}

/**
 * Removes the webhook URL, and its path on its own, from a text that may have come from a
 * library or the network (second line of defence: our own messages never include it).
 */
export function scrubWebhookUrl(text: string, url: string): string {
  const needles = new Set<string>([url]);
  try {
    const u = new URL(url);
    needles.add(u.href);
    const secretPart = `${u.pathname}${u.search}`;
    if (secretPart.length > 1) needles.add(secretPart);
    if (u.pathname.length > 1) needles.add(u.pathname);
    if (u.password) needles.add(u.password);
  } catch {
    // An unparseable URL is still removed verbatim.
  }
  let out = text;
  // Longest first, so the full URL is replaced before its path is.
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    if (needle.length > 0) out = out.split(needle).join('***');
  }
  return out;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Checks a webhook URL at start-up. https is required except on loopback (tests, a local relay):
 * over plain http the secret path would travel in clear. Errors never echo the URL.
 */
export function assertWebhookUrl(url: string, field = 'slackWebhookUrl'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError([`${field}: not a valid URL (value not shown: it is a secret)`]);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    throw new ConfigError([`${field}: must be an https:// URL (got ${u.protocol}//${u.host}/***)`]);
  }
  if (u.pathname.length <= 1) {
    throw new ConfigError([`${field}: has no path; a Slack webhook URL looks like https://hooks.slack.com/services/…`]);
  }
  return u;
}
