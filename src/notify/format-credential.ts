import type { CredentialKind, Strategy } from '../model.js';
import type { CredentialSummary } from './types.js';
import { sectionBlock, type SlackBlock } from './format-blocks.js';
import { code, esc } from './format-text.js';
import { expiryPhrase, formatUtc } from './format-time.js';

/** Pieces every message about one credential shares. All return escaped mrkdwn/fallback text. */

export interface RenderOptions {
  /** The instant the message describes time from (epoch ms). */
  now: number;
  /** Link shown under each message; only http(s) URLs are used. */
  dashboardUrl?: string;
  /** How many urgent credentials a scan digest lists before "and N more" (default 10). */
  maxUrgent?: number;
}

const KIND_NOUN: Record<CredentialKind, string> = {
  'service-account': 'service account',
  pat: 'personal access token',
};

const STRATEGY_TEXT: Record<Strategy, string> = {
  replace: 'replace (new credential; the old one is retired after the overlap window)',
  rekey: 'rekey (new key on the same credential; the token is unchanged)',
  notify: 'notify only (the rotator never changes it)',
};

export function kindNoun(kind: CredentialKind): string {
  return KIND_NOUN[kind];
}

export function kindTitle(kind: CredentialKind): string {
  const noun = KIND_NOUN[kind];
  return noun.charAt(0).toUpperCase() + noun.slice(1);
}

/** `*payments-bot* (`us-123`)` for blocks. */
export function credentialRef(c: CredentialSummary): string {
  return `*${esc(c.name)}* (${code(c.id)})`;
}

/** `service account "payments-bot" (us-123)` for the fallback text. */
export function credentialRefPlain(c: CredentialSummary): string {
  const owner = c.kind === 'pat' && c.owner ? ` of ${esc(c.owner)}` : '';
  return `${kindNoun(c.kind)} "${esc(c.name)}" (${esc(c.id)})${owner}`;
}

/**
 * `expires in 3 days, on 2025-03-14 09:30 UTC (estimated)`. "(estimated)" marks an expiry
 * derived from `dateCreated` + an assumed lifetime: Dfns exposes no expiry field, so only the
 * `exp` of a token we hold is exact.
 */
export function expiryText(c: CredentialSummary, now: number): string {
  if (c.expiresAt === null) {
    return c.expirySource === 'none' ? 'expiry unknown (the held token carries no expiry)' : 'expiry unknown';
  }
  const estimated = c.expirySource === 'estimate' ? ' (estimated)' : '';
  return `${expiryPhrase(c.expiresAt, now)}, on ${formatUtc(c.expiresAt)}${estimated}`;
}

export function strategyText(strategy: Strategy): string {
  return STRATEGY_TEXT[strategy];
}

/** The label/value pairs describing a credential; values are escaped. */
export function credentialFields(c: CredentialSummary, now: number): [string, string][] {
  const pairs: [string, string][] = [
    ['Kind', kindTitle(c.kind)],
    ['Id', code(c.id)],
  ];
  if (c.kind === 'pat') pairs.push(['Owner', c.owner ? esc(c.owner) : 'unknown']);
  pairs.push(['Expiry', expiryText(c, now)]);
  pairs.push(['Strategy', strategyText(c.strategy)]);
  pairs.push(['Managed', c.managed ? 'yes: the rotator holds its token and key' : 'no: the rotator does not hold its token']);
  return pairs;
}

export const ESTIMATE_NOTE =
  'Estimated from the creation date and the configured lifetime: Dfns does not report expiry, and the rotator does not hold this token.';

const OWN_IDENTITY_TEXT =
  ":rotating_light: *This is the rotator's own identity.* If it lapses, the rotator can no longer log in, scan, rotate or warn about anything else.";

/** Emphasis for the worker's own identity (operator or watcher), or nothing. */
export function ownIdentityBlocks(c: CredentialSummary): SlackBlock[] {
  return c.isOwnIdentity ? [sectionBlock(OWN_IDENTITY_TEXT)] : [];
}

export function ownIdentityPlain(c: CredentialSummary): string {
  return c.isOwnIdentity ? "URGENT: this is the rotator's own identity; if it lapses the rotator stops working." : '';
}

/** `<https://…|Open the dashboard>`, or '' when there is no usable URL. */
export function dashboardLink(url: string | undefined, label = 'Open the dashboard'): string {
  if (!url) return '';
  let href: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return '';
    // Credentials in a URL would be shown to the whole channel.
    u.username = '';
    u.password = '';
    href = u.href;
  } catch {
    return '';
  }
  // In `<url|label>` a `|` or `>` in the URL would end it early; `&` must be an entity.
  href = href.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
  return `<${href}|${label}>`;
}
