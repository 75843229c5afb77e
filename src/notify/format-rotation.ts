import type { Notification, RenderedMessage } from './types.js';
import { contextBlock, fallbackText, fieldBlocks, headerBlock, limitBlocks, sectionBlock, type SlackBlock } from './format-blocks.js';
import {
  credentialRef,
  credentialRefPlain,
  dashboardLink,
  expiryText,
  kindNoun,
  kindTitle,
  ownIdentityBlocks,
  ownIdentityPlain,
  strategyText,
  type RenderOptions,
} from './format-credential.js';
import { code, endSentence, esc } from './format-text.js';
import { expiryPhrase, formatUtc, relativeTime } from './format-time.js';
import type { CredentialSummary } from './types.js';
import { cliCommand } from '../cli-name.js';

type Of<T extends Notification['type']> = Extract<Notification, { type: T }>;

/** Free-text fields written by the engine (errors, impacts, actions) get more room than names. */
const PROSE_MAX = 1000;

export function renderRotationSucceeded(n: Of<'rotation-succeeded'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const rekey = c.strategy === 'rekey';
  const what = rekey
    ? `has a new key credential ${code(n.newCredentialId)}; its token is unchanged.`
    : `was replaced by the new ${kindNoun(c.kind)} ${code(n.newCredentialId)}.`;
  const newExpiry =
    n.newExpiresAt === null
      ? "The new credential's expiry is unknown."
      : `The new credential ${expiryPhrase(n.newExpiresAt, o.now)}, on ${formatUtc(n.newExpiresAt)}.`;
  const retire = `The old ${rekey ? 'key' : 'credential'} keeps working until ${formatUtc(n.retireAt)} (${relativeTime(n.retireAt, o.now)}), then it is deactivated.`;
  const reason = esc(n.reason, PROSE_MAX);

  const blocks: SlackBlock[] = [
    headerBlock(`:white_check_mark: ${subject(c)} rotated`),
    ...ownIdentityBlocks(c),
    sectionBlock(`${credentialRef(c)} ${what}\n${newExpiry}\n${retire}`),
    ...fieldBlocks([
      ['Reason', reason],
      ['Strategy', strategyText(c.strategy)],
    ]),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([
    `Rotated: Dfns ${credentialRefPlain(c)} ${rekey ? `has a new key ${esc(n.newCredentialId)}` : `was replaced by ${esc(n.newCredentialId)}`} (reason: ${reason}).`,
    newExpiry,
    retire,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderRotationFailed(n: Of<'rotation-failed'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const why = esc(n.error, PROSE_MAX);
  const impact = esc(n.impact, PROSE_MAX);
  const action = esc(n.action, PROSE_MAX);
  const blocks: SlackBlock[] = [
    headerBlock(`${c.isOwnIdentity ? ':rotating_light:' : ':x:'} Rotation of ${subject(c, false)} failed`),
    ...ownIdentityBlocks(c),
    sectionBlock(`${credentialRef(c)} could not be rotated: step ${code(n.step)} failed.`),
    sectionBlock(`*Why:* ${why}`),
    sectionBlock(`*Impact:* ${impact}`),
    sectionBlock(`*Action:* ${action}`),
    ...fieldBlocks([['Current credential', expiryText(c, o.now)]]),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([
    ownIdentityPlain(c),
    `Rotation failed: Dfns ${credentialRefPlain(c)}, step ${esc(n.step)}: ${endSentence(why)}`,
    `Impact: ${endSentence(impact)}`,
    `Action: ${endSentence(action)}`,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderRotationAttention(n: Of<'rotation-attention'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const problem = esc(n.problem, PROSE_MAX);
  const impact = esc(n.impact, PROSE_MAX);
  const action = esc(n.action, PROSE_MAX);
  const blocks: SlackBlock[] = [
    headerBlock(`:warning: Rotation of ${subject(c, false)} needs attention`),
    ...ownIdentityBlocks(c),
    sectionBlock(`The rotation of ${credentialRef(c)} saw something at step ${code(n.step)} that a person should check.`),
    sectionBlock(`*What:* ${problem}`),
    sectionBlock(`*Impact:* ${impact}`),
    sectionBlock(`*Action:* ${action}`),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([
    ownIdentityPlain(c),
    `Attention: the rotation of Dfns ${credentialRefPlain(c)}, step ${esc(n.step)}: ${endSentence(problem)}`,
    `Impact: ${endSentence(impact)}`,
    `Action: ${endSentence(action)}`,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderRotationParked(n: Of<'rotation-parked'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const approval = n.approvalId ? ` (approval ${code(n.approvalId)})` : '';
  const action = esc(n.action, PROSE_MAX);
  const blocks: SlackBlock[] = [
    headerBlock(`:hourglass_flowing_sand: Rotation of ${subject(c, false)} waiting for approval`),
    ...ownIdentityBlocks(c),
    sectionBlock(
      `The rotation of ${credentialRef(c)} is paused at step ${code(n.step)}: a Dfns policy requires approval${approval}. Nothing was retired; the current credential keeps working.`,
    ),
    sectionBlock(`*Action:* ${action}`),
    ...fieldBlocks([['Current credential', expiryText(c, o.now)]]),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([
    ownIdentityPlain(c),
    `Approval needed: the rotation of Dfns ${credentialRefPlain(c)} is paused at step ${esc(n.step)}${n.approvalId ? ` (approval ${esc(n.approvalId)})` : ''}.`,
    `Action: ${endSentence(action)}`,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderCredentialRetired(n: Of<'credential-retired'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const done =
    n.outcome === 'deactivated'
      ? 'was deactivated after the overlap window; its replacement is in use.'
      : 'was archived; it had been deactivated after the overlap window.';
  const blocks: SlackBlock[] = [
    headerBlock(`:wastebasket: Old ${kindNoun(c.kind)} ${n.outcome}`),
    sectionBlock(`${credentialRef(c)} ${done}`),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([`Retired: the old Dfns ${credentialRefPlain(c)} ${done}`]);
  return { text, blocks: limitBlocks(blocks) };
}

export function renderRetirePostponed(n: Of<'retire-postponed'>, o: RenderOptions): RenderedMessage {
  const c = n.credential;
  const lastUse = `${formatUtc(n.lastUseAt)} (${relativeTime(n.lastUseAt, o.now)})`;
  const replacement = n.newCredentialId ? ` Services should be using ${code(n.newCredentialId)} from the store.` : '';
  const plainReplacement = n.newCredentialId ? ` Services should be using ${n.newCredentialId} from the store.` : '';
  const next =
    n.outcome === 'postponed'
      ? `It stays active; retirement is checked again ${formatUtc(n.retireAt!)}, and waits at most until ${formatUtc(n.maxRetireAt)}.`
      : `The maximum overlap is reached: it stays active until a person decides. Move the service, then run ${code(cliCommand('retire', n.rotationId, '--force', '--reason', 'its consumers have moved'))}.`;
  const plainNext =
    n.outcome === 'postponed'
      ? `It stays active; retirement is checked again ${formatUtc(n.retireAt!)}, and waits at most until ${formatUtc(n.maxRetireAt)}.`
      : `The maximum overlap is reached: it stays active until a person decides. Move the service, then run ${cliCommand('retire', n.rotationId, '--force', '--reason', 'its consumers have moved')}.`;
  const blocks: SlackBlock[] = [
    headerBlock(`:hourglass: Old ${kindNoun(c.kind)} still in use`),
    sectionBlock(`${credentialRef(c)} was replaced, but Dfns' audit log shows it signing an action at ${esc(lastUse)}: a service has not moved to the new credential.${replacement}`),
    sectionBlock(next),
    footer(c, n.rotationId, o),
  ];
  const text = fallbackText([
    `Still in use: the old Dfns ${credentialRefPlain(c)} signed an action at ${lastUse} after it was replaced.${plainReplacement}`,
    plainNext,
  ]);
  return { text, blocks: limitBlocks(blocks) };
}

function subject(c: CredentialSummary, capital = true): string {
  if (c.isOwnIdentity) return `${capital ? 'Rotator' : 'the rotator'}'s own ${kindNoun(c.kind)}`;
  return capital ? kindTitle(c.kind) : kindNoun(c.kind);
}

function footer(c: CredentialSummary, rotationId: string, o: RenderOptions): SlackBlock {
  return contextBlock(`Rotation ${code(rotationId)}`, `Key ${code(c.key)}`, dashboardLink(o.dashboardUrl));
}
