/**
 * Human wording for instants and durations, always relative to an injected `now` (epoch ms).
 * The one rounding rule of every message (banner, log, Slack, inventory, plan, status): whole
 * units, floored: "in 2 days" for 2 days 23 hours, which for an expiry errs on the side of
 * urgency, never promising more time than is left. Everything that words a time uses these.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `45 minutes`, `5 hours`, `3 days`, `under a minute`: the size of `ms`, sign ignored. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return 'under a minute';
  if (abs < HOUR) return unit(Math.floor(abs / MINUTE), 'minute');
  if (abs < DAY) return unit(Math.floor(abs / HOUR), 'hour');
  return unit(Math.floor(abs / DAY), 'day');
}

/** `in 3 days`, `2 days ago`; `in under a minute` / `just now` within a minute. */
export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  if (Math.abs(diff) < MINUTE) return diff > 0 ? 'in under a minute' : 'just now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(diff)} ago`;
}

/** `expires in 3 days`, `expired 2 days ago`, `expires now`. */
export function expiryPhrase(expiresAt: number, now: number): string {
  const diff = expiresAt - now;
  if (Math.abs(diff) < MINUTE) return 'expires now';
  return diff > 0 ? `expires in ${formatDuration(diff)}` : `expired ${formatDuration(diff)} ago`;
}

/** `2025-03-14 09:30 UTC`: minutes are enough for people, and UTC avoids guessing their zone. */
export function formatUtc(at: number): string {
  // Date can only represent ±8.64e15 ms; toISOString throws beyond that.
  if (!Number.isFinite(at) || Math.abs(at) > 8.64e15) return 'an unknown date';
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function unit(n: number, name: string): string {
  return `${n} ${name}${n === 1 ? '' : 's'}`;
}
