import { clip, truncateMrkdwn } from './format-text.js';

/**
 * Block Kit builders that cannot produce a block Slack rejects. Slack refuses the *whole*
 * message (400 `invalid_blocks`) when one limit is exceeded, so every builder cuts to size
 * instead of trusting its input. Limits: docs.slack.dev/reference/block-kit (blocks, text object).
 */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  contextElements: 10,
  contextText: 3000,
  /** Slack truncates longer top-level text and recommends at most 4,000 characters. */
  fallbackText: 4000,
} as const;

export interface PlainTextObject {
  type: 'plain_text';
  text: string;
  emoji: true;
}

export interface MrkdwnObject {
  type: 'mrkdwn';
  text: string;
}

export type SlackBlock =
  | { type: 'header'; text: PlainTextObject }
  | { type: 'section'; text: MrkdwnObject }
  | { type: 'section'; fields: MrkdwnObject[] }
  | { type: 'context'; elements: MrkdwnObject[] }
  | { type: 'divider' };

/**
 * A header is plain text: Slack does not parse mentions or links in it, so callers put only
 * fixed wording and numbers there and keep external values in mrkdwn sections.
 */
export function headerBlock(text: string): SlackBlock {
  return { type: 'header', text: { type: 'plain_text', text: nonEmpty(clip(text, SLACK_LIMITS.headerText)), emoji: true } };
}

/** A mrkdwn section; `text` must already be escaped. */
export function sectionBlock(text: string): SlackBlock {
  return { type: 'section', text: mrkdwn(truncateMrkdwn(text, SLACK_LIMITS.sectionText)) };
}

/**
 * Label/value pairs shown two per row. Labels are fixed wording; values must already be escaped.
 * More than ten pairs continue in a second section (Slack's per-section limit).
 */
export function fieldBlocks(pairs: readonly (readonly [label: string, value: string])[]): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  for (let i = 0; i < pairs.length; i += SLACK_LIMITS.fieldsPerSection) {
    const fields = pairs
      .slice(i, i + SLACK_LIMITS.fieldsPerSection)
      .map(([label, value]) => mrkdwn(truncateMrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText)));
    blocks.push({ type: 'section', fields });
  }
  return blocks;
}

/** Small grey lines under the message; each part must already be escaped. */
export function contextBlock(...parts: string[]): SlackBlock {
  const elements = parts
    .filter((p) => p.length > 0)
    .slice(0, SLACK_LIMITS.contextElements)
    .map((p) => mrkdwn(truncateMrkdwn(p, SLACK_LIMITS.contextText)));
  return { type: 'context', elements: elements.length > 0 ? elements : [mrkdwn(' ')] };
}

/** Caps the message at Slack's block limit, saying so in the last block rather than failing. */
export function limitBlocks(blocks: SlackBlock[]): SlackBlock[] {
  const max = SLACK_LIMITS.blocksPerMessage;
  if (blocks.length <= max) return blocks;
  const kept = blocks.slice(0, max - 1);
  return [...kept, contextBlock(`_${blocks.length - kept.length} more blocks left out: Slack allows ${max} per message._`)];
}

/** The top-level fallback text, capped; parts must already be escaped. */
export function fallbackText(parts: readonly string[]): string {
  return nonEmpty(truncateMrkdwn(parts.filter((p) => p.length > 0).join(' '), SLACK_LIMITS.fallbackText));
}

function mrkdwn(text: string): MrkdwnObject {
  return { type: 'mrkdwn', text: nonEmpty(text) };
}

// Slack rejects empty text objects (minimum length 1).
function nonEmpty(text: string): string {
  return text.trim().length > 0 ? text : '-';
}
