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

/** Where Slack serves incoming webhooks (commercial and GovSlack). */
export const SLACK_WEBHOOK_HOSTS: ReadonlySet<string> = new Set(['hooks.slack.com', 'hooks.slack-gov.com']);

export interface WebhookUrlRules {
  /**
   * `slack.allowAnyHost`: accept a host other than Slack's (a relay or proxy), over https, or
   * over http on loopback only (a local relay or a test server: the secret never leaves the machine).
   */
  allowAnyHost?: boolean;
}

/**
 * What is wrong with a webhook URL, or null. The one rule, used by the config at load and by the
 * notifier: https to Slack's hooks host; anything else only with allowAnyHost. The URL is the
 * credential: messages show scheme and host, never the path.
 */
export function webhookUrlProblem(url: string, rules: WebhookUrlRules = {}): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a valid URL (value not shown: it is a secret)';
  }
  const shown = `${u.protocol}//${u.host}/***`;
  if (u.pathname.length <= 1) return 'has no path; a Slack webhook URL looks like https://hooks.slack.com/services/…';
  if (u.protocol === 'https:' && SLACK_WEBHOOK_HOSTS.has(u.hostname)) return null;
  if (!rules.allowAnyHost) {
    if (u.protocol !== 'https:') return `must be an https:// URL (got ${shown})`;
    return `${u.hostname} is not a Slack webhook host (${[...SLACK_WEBHOOK_HOSTS].join(', ')}); to post through a relay or proxy, set slack.allowAnyHost: true (DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST=true)`;
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) return null;
  return `must be an https:// URL; plain http is accepted on loopback only, where the secret stays on this machine (got ${shown})`;
}

/** Checks a webhook URL when a notifier is built; errors never echo the URL. */
export function assertWebhookUrl(url: string, field = 'slackWebhookUrl', rules: WebhookUrlRules = {}): URL {
  const problem = webhookUrlProblem(url, rules);
  if (problem) throw new ConfigError([`${field}: ${problem}`]);
  return new URL(url);
}
