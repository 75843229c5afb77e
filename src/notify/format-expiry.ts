import type { CredentialState } from '../model.js';
import type { Notification, RenderedMessage } from './types.js';
import { contextBlock, fallbackText, fieldBlocks, headerBlock, limitBlocks, sectionBlock, SLACK_LIMITS, type SlackBlock } from './format-blocks.js';
import {
  credentialFields,
  credentialRef,
  credentialRefPlain,
  dashboardLink,
  ESTIMATE_NOTE,
  expiryText,
  kindNoun,
  kindTitle,
  ownIdentityBlocks,
  ownIdentityPlain,
  type RenderOptions,
} from './format-credential.js';
import { code, endSentence, esc, plural } from './format-text.js';
import { expiryPhrase, formatUtc } from './format-time.js';
import { cliCommand } from '../cli-name.js';

type ExpiryWarning = Extract<Notification, { type: 'expiry-warning' }>;
type ScanDigest = Extract<Notification, { type: 'scan-digest' }>;
type ExpiryBatch = Extract<Notification, { type: 'expiry-batch' }>;

export const STATE_EMOJI: Record<CredentialState, string> = {
  expired: ':red_circle:',
  rotate: ':arrows_counterclockwise:',
  warn: ':warning:',
  unknown: ':grey_question:',
  inactive: ':white_circle:',
  ok: ':large_green_circle:',
};

/** Most urgent first: the order counts and lists are shown in. */
const STATE_ORDER: readonly CredentialState[] = ['expired', 'rotate', 'warn', 'unknown', 'inactive', 'ok'];
const NEEDS_ATTENTION: ReadonlySet<CredentialState> = new Set(['expired', 'rotate', 'warn', 'unknown']);

const MAX_ERRORS_LISTED = 5;

export function renderExpiryWarning(n: ExpiryWarning, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const subject = c.isOwnIdentity ? `Rotator's own ${kindNoun(c.kind)}` : kindTitle(c.kind);
  const when = c.expiresAt === null ? null : expiryPhrase(c.expiresAt, o.now);
  const estimated = c.expirySource === 'estimate' && c.expiresAt !== null ? ' (estimated)' : '';
  const headline = {
    expired: `${subject} ${when ?? 'has expired'}${estimated}`,
    rotate: `${subject} due for rotation${when ? `, ${when}` : ''}${estimated}`,
    warn: `${subject} ${when ?? 'expires soon'}${estimated}`,
    unknown: `${subject} with unknown expiry`,
  }[n.state];
  const emoji = c.isOwnIdentity ? ':rotating_light:' : STATE_EMOJI[n.state];
  const lead = { expired: 'Expired:', rotate: 'Rotation due:', warn: 'Expiry warning:', unknown: 'Unknown expiry:' }[n.state];
  const threshold = n.thresholdDays === null ? '' : ` It is inside the ${n.thresholdDays}-day warning threshold.`;
  const nextAction = esc(n.nextAction, 1000);

  const blocks: SlackBlock[] = [
    headerBlock(`${emoji} ${headline}`),
    ...ownIdentityBlocks(c),
    sectionBlock(`${credentialRef(c)} ${expiryText(c, o.now)}.${threshold}`),
    ...fieldBlocks(credentialFields(c, o.now)),
    sectionBlock(`*Next:* ${nextAction}`),
    contextBlock(...(estimated ? [ESTIMATE_NOTE] : []), `Key ${code(c.key)}`, dashboardLink(o.dashboardUrl)),
  ];
  const text = fallbackText([
    ownIdentityPlain(c),
    `${lead} Dfns ${credentialRefPlain(c)} ${expiryText(c, o.now)}.`,
    `Strategy: ${c.strategy}.`,
    `Next: ${endSentence(nextAction)}`,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderScanDigest(n: ScanDigest, o: RenderOptions): RenderedMessage {
  const maxUrgent = Math.max(0, Math.floor(o.maxUrgent ?? 10));
  const attention = STATE_ORDER.filter((s) => NEEDS_ATTENTION.has(s)).reduce((sum, s) => sum + count(n, s), 0);
  const header =
    attention > 0
      ? `:bar_chart: Credential scan: ${attention} need${attention === 1 ? 's' : ''} attention`
      : n.errors.length > 0
        ? `:warning: Credential scan incomplete: ${plural(n.errors.length, 'identity', 'identities')} could not be listed`
        : `:white_check_mark: Credential scan: all ${plural(n.total, 'credential')} OK`;
  const countsLine = STATE_ORDER.map((s) => `${count(n, s)} ${s}`).join(' · ');

  const shown = n.urgent.slice(0, maxUrgent);
  // The list may be capped by the caller; the counts say how many really need attention.
  const more = Math.max(n.urgent.length, attention) - shown.length;
  const urgentLines = shown.map((u) => {
    const c = u.credential;
    const own = c.isOwnIdentity ? " :rotating_light: *rotator's own identity*" : '';
    return `${STATE_EMOJI[u.state]} ${credentialRef(c)}, ${kindNoun(c.kind)}: ${shortExpiry(c.expiresAt, c.expirySource, o.now)}${own}`;
  });
  if (more > 0 && shown.length > 0) urgentLines.push(`…and ${more} more`);

  const errorLines = n.errors
    .slice(0, MAX_ERRORS_LISTED)
    .map((e) => `• ${code(e.identity)}: ${esc(e.message, 300)}`);
  if (n.errors.length > MAX_ERRORS_LISTED) errorLines.push(`…and ${n.errors.length - MAX_ERRORS_LISTED} more`);

  const blocks: SlackBlock[] = [
    headerBlock(header),
    sectionBlock(`*${plural(n.total, 'credential')}:* ${countsLine}\n*Rotations queued:* ${n.rotationsQueued}`),
    ...(urgentLines.length > 0 ? packSections('*Most urgent*', urgentLines) : []),
    ...(errorLines.length > 0 ? packSections(`*Could not list ${plural(n.errors.length, 'identity', 'identities')}*`, errorLines) : []),
    contextBlock(`Scan ${code(n.scanId)} at ${formatUtc(n.at)}`, dashboardLink(o.dashboardUrl)),
  ];

  const mostUrgent = n.urgent
    .slice(0, Math.min(3, maxUrgent))
    .map((u) => `${credentialRefPlain(u.credential)} ${shortExpiry(u.credential.expiresAt, u.credential.expirySource, o.now)}`);
  const moreInText = Math.max(n.urgent.length, attention) - mostUrgent.length;
  const text = fallbackText([
    `Credential scan at ${formatUtc(n.at)}: ${plural(n.total, 'credential')},`,
    `${count(n, 'expired')} expired, ${count(n, 'rotate')} due for rotation, ${count(n, 'warn')} expiring soon, ${count(n, 'unknown')} unknown;`,
    `${plural(n.rotationsQueued, 'rotation')} queued.`,
    n.errors.length > 0 ? `${plural(n.errors.length, 'identity', 'identities')} could not be listed.` : '',
    mostUrgent.length > 0 ? `Most urgent: ${mostUrgent.join('; ')}${moreInText > 0 ? `; and ${moreInText} more` : ''}.` : '',
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

/** Many warnings at once (a first scan, a long outage): one message, most urgent first. */
export function renderExpiryBatch(n: ExpiryBatch, o: RenderOptions): RenderedMessage {
  const maxShown = Math.max(0, Math.floor(o.maxUrgent ?? 10));
  const states = (['expired', 'rotate', 'warn', 'unknown'] as const).filter((s) => (n.counts[s] ?? 0) > 0);
  const countsLine = states.map((s) => `${n.counts[s]} ${s === 'rotate' ? 'due for rotation' : s === 'warn' ? 'expiring soon' : s}`).join(' · ');
  const shown = n.examples.slice(0, maxShown);
  const lines = shown.map((u) => `${STATE_EMOJI[u.state]} ${credentialRef(u.credential)}, ${kindNoun(u.credential.kind)}: ${shortExpiry(u.credential.expiresAt, u.credential.expirySource, o.now)}`);
  if (n.count > shown.length && shown.length > 0) lines.push(`…and ${n.count - shown.length} more`);
  const blocks: SlackBlock[] = [
    headerBlock(`:warning: ${plural(n.count, 'more credential')} crossed an expiry threshold`),
    sectionBlock(countsLine || 'See the inventory for details.'),
    ...(lines.length > 0 ? packSections('*Most urgent*', lines) : []),
    contextBlock('Sent as one message to keep the channel readable; each is listed in the inventory and by `' + cliCommand('plan') + '`', `Scan ${code(n.scanId)} at ${formatUtc(n.at)}`, dashboardLink(o.dashboardUrl)),
  ];
  const text = fallbackText([
    `Expiry warnings: ${plural(n.count, 'more credential')} crossed an expiry threshold${countsLine ? ` (${countsLine})` : ''}.`,
    shown.length > 0 ? `Most urgent: ${shown.slice(0, 3).map((u) => `${credentialRefPlain(u.credential)} ${shortExpiry(u.credential.expiresAt, u.credential.expirySource, o.now)}`).join('; ')}.` : '',
    `See the inventory page or \`${cliCommand('plan')}\`.`,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

function count(n: ScanDigest, s: CredentialState): number {
  const v = n.counts[s];
  return Number.isFinite(v) ? v : 0;
}

function shortExpiry(expiresAt: number | null, source: string, now: number): string {
  if (expiresAt === null) return 'expiry unknown';
  return `${expiryPhrase(expiresAt, now)}${source === 'estimate' ? ' (estimated)' : ''}`;
}

/** Puts a titled list into as many sections as it needs, never cutting a line across two. */
function packSections(title: string, lines: readonly string[]): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  let current = title;
  for (const line of lines) {
    const next = `${current}\n${line}`;
    if (next.length > SLACK_LIMITS.sectionText && current.length > 0) {
      blocks.push(sectionBlock(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current.length > 0) blocks.push(sectionBlock(current));
  return blocks;
}
