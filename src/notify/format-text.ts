/**
 * Text safety for Slack. Slack parses `&`, `<` and `>` in mrkdwn *and* in a message's top-level
 * `text`: `<!channel>` pings a channel, `<https://x|y>` disguises a link. Every value that comes
 * from outside the code (credential names, ids, owners, error messages, reasons) goes through
 * `esc` before it is placed in either. Fixed wording never contains those characters.
 */

/** Escapes the three characters Slack's formatting reserves. */
export function escapeMrkdwn(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The inverse of `escapeMrkdwn`, for writing a rendered fallback text to a log. */
export function unescapeMrkdwn(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// C0/C1 controls and Unicode line/paragraph separators: a name must not be able to start a
// fake new line ("\n*Rotation succeeded*") or hide text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Folds a value onto one line and caps its length (before escaping, so no entity is cut). */
export function oneLine(value: string, max = 200): string {
  return clip(value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim(), max);
}

/** Cuts a plain (unescaped) string to `max` characters with an ellipsis, never splitting a surrogate pair. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = Math.max(0, max - 1);
  if (end > 0 && isHighSurrogate(value.charCodeAt(end - 1))) end -= 1;
  return `${value.slice(0, end)}…`;
}

/** One external value, made safe for mrkdwn and the fallback text: one line, capped, escaped. */
export function esc(value: string | number, max = 200): string {
  return escapeMrkdwn(oneLine(String(value), max));
}

/**
 * An external value as inline code. Backticks inside would end the code span early, so they
 * become a look-alike; the value is escaped like any other (Slack parses `<!here>` even in code).
 */
export function code(value: string, max = 120): string {
  return `\`${esc(value.replace(/`/g, 'ʼ'), max) || ' '}\``;
}

/**
 * Cuts already-formatted mrkdwn to `max` characters without leaving half an entity (`&am`) or
 * half a link/mention (`<https://…`), which Slack would render as garbage or reject.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  let cut = text.slice(0, end);
  const openAngle = cut.lastIndexOf('<');
  if (openAngle > cut.lastIndexOf('>')) end = openAngle;
  cut = text.slice(0, end);
  const amp = cut.lastIndexOf('&');
  // Entities we emit are at most 5 characters (`&amp;`); an `&` closer than that to the cut may be partial.
  if (amp >= 0 && amp > cut.lastIndexOf(';') && end - amp < 5) end = amp;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Ends a sentence with a full stop unless it already ends with punctuation. */
export function endSentence(text: string): string {
  return /[.!?…:;]$/.test(text) || text.length === 0 ? text : `${text}.`;
}

/** `1 credential`, `3 credentials`. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
