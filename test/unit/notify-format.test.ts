import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import { SLACK_LIMITS, contextBlock, limitBlocks, type SlackBlock } from '../../src/notify/format-blocks.js';
import { dashboardLink } from '../../src/notify/format-credential.js';
import { escapeMrkdwn, truncateMrkdwn, unescapeMrkdwn } from '../../src/notify/format-text.js';
import { expiryPhrase, formatDuration, formatUtc, relativeTime } from '../../src/notify/format-time.js';
import { renderNotification } from '../../src/notify/format.js';
import { exampleCredential, exampleNotifications } from '../fixtures/notifications.js';
import type { CredentialSummary, Notification, RenderedMessage } from '../../src/notify/types.js';

const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const HOUR = 3_600_000;
const MINUTE = 60_000;

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] };

/** Every text Slack will parse as mrkdwn, plus the fallback (also parsed). */
function mrkdwnTexts(m: RenderedMessage): string[] {
  const out = [m.text];
  for (const b of m.blocks as Block[]) {
    if (b.type === 'section' && b.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    for (const e of b.elements ?? []) out.push(e.text);
  }
  return out;
}

function headerText(m: RenderedMessage): string {
  const h = (m.blocks as Block[]).find((b) => b.type === 'header');
  return h?.text?.text ?? '';
}

/** Structural Block Kit limits Slack enforces (it rejects the whole message otherwise). */
function expectWithinSlackLimits(m: RenderedMessage): void {
  const blocks = m.blocks as Block[];
  expect(blocks.length).toBeGreaterThan(0);
  expect(blocks.length).toBeLessThanOrEqual(50);
  expect(m.text.length).toBeGreaterThan(0);
  expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const b of blocks) {
    if (b.type === 'header') {
      expect(b.text?.type).toBe('plain_text');
      expect(b.text!.text.length).toBeGreaterThan(0);
      expect(b.text!.text.length).toBeLessThanOrEqual(150);
    }
    if (b.type === 'section') {
      expect(Boolean(b.text) !== Boolean(b.fields)).toBe(true);
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
    if (b.type === 'context') {
      expect(b.elements!.length).toBeGreaterThan(0);
      expect(b.elements!.length).toBeLessThanOrEqual(10);
    }
  }
  for (const t of mrkdwnTexts(m)) expect(t.trim().length).toBeGreaterThan(0);
}

function withCredential(n: Notification, credential: CredentialSummary): Notification {
  if (n.type === 'scan-digest') {
    return { ...n, urgent: n.urgent.map((u) => ({ ...u, credential })), errors: [{ identity: credential.name, message: credential.name }] };
  }
  if (n.type === 'expiry-batch') return { ...n, examples: n.examples.map((u) => ({ ...u, credential })) };
  // No credential in it: the external values are the secret's name, where it is and the problem.
  if (n.type === 'store-damaged') return { ...n, secretName: credential.name, where: credential.id, problem: credential.name };
  return { ...n, credential } as Notification;
}

const examples = exampleNotifications(NOW);
const allTypes = Object.values(examples);

describe('durations and dates', () => {
  it.each([
    [3 * DAY_MS + 5 * HOUR, 'expires in 3 days', 'in 3 days'],
    [DAY_MS, 'expires in 1 day', 'in 1 day'],
    [5 * HOUR + 59 * MINUTE, 'expires in 5 hours', 'in 5 hours'],
    [45 * MINUTE, 'expires in 45 minutes', 'in 45 minutes'],
    [30_000, 'expires now', 'in under a minute'],
    [-30_000, 'expires now', 'just now'],
    [-HOUR, 'expired 1 hour ago', '1 hour ago'],
    [-(2 * DAY_MS + 23 * HOUR), 'expired 2 days ago', '2 days ago'],
  ])('%d ms from now: "%s" / "%s"', (delta, expiry, relative) => {
    expect(expiryPhrase(NOW + delta, NOW)).toBe(expiry);
    expect(relativeTime(NOW + delta, NOW)).toBe(relative);
  });

  it('floors, never promising more time than is left', () => {
    expect(formatDuration(2 * DAY_MS - 1)).toBe('1 day');
    expect(formatDuration(59_999)).toBe('under a minute');
  });

  it('prints exact instants in UTC to the minute', () => {
    expect(formatUtc(Date.UTC(2025, 2, 14, 9, 30, 59))).toBe('2025-03-14 09:30 UTC');
    expect(formatUtc(Number.MAX_SAFE_INTEGER)).toBe('an unknown date');
  });
});

describe('expiry warning', () => {
  const base = examples['expiry-warning'] as Extract<Notification, { type: 'expiry-warning' }>;

  it.each([
    ['estimate', true],
    ['token', false],
  ] as const)('expirySource %s: "(estimated)" shown = %s', (expirySource, estimated) => {
    const credential = exampleCredential({ kind: 'service-account', expiresAt: NOW + 3 * DAY_MS + 2 * HOUR, expirySource }, NOW);
    const m = renderNotification({ ...base, credential }, { now: NOW });
    const all = mrkdwnTexts(m).join('\n') + headerText(m);
    expect(m.text).toContain('expires in 3 days, on 2025-03-13 14:00 UTC');
    expect(headerText(m)).toContain('Service account expires in 3 days');
    expect(all.includes('(estimated)')).toBe(estimated);
    expect(all.includes('Dfns does not report expiry')).toBe(estimated);
  });

  it('says when the expiry is unknown', () => {
    const credential = exampleCredential({ expiresAt: null, expirySource: 'none' }, NOW);
    const m = renderNotification({ ...base, state: 'unknown', thresholdDays: null, daysLeft: null, credential }, { now: NOW });
    expect(m.text).toContain('expiry unknown (the held token carries no expiry)');
    expect(headerText(m)).toBe(':grey_question: Service account with unknown expiry');
  });

  it('words an expired credential in the past tense', () => {
    const credential = exampleCredential({ expiresAt: NOW - 2 * DAY_MS - HOUR }, NOW);
    const m = renderNotification({ ...base, state: 'expired', thresholdDays: null, daysLeft: -3, credential }, { now: NOW });
    expect(headerText(m)).toBe(':red_circle: Service account expired 2 days ago');
    expect(m.text).toMatch(/^Expired: Dfns service account "payments-signer" \(us-[^)]+\) expired 2 days ago, on 2025-03-08 11:00 UTC\./);
  });

  it('shows the PAT owner, strategy, threshold and next action', () => {
    const m = renderNotification(base, { now: NOW });
    const all = mrkdwnTexts(m).join('\n');
    expect(all).toContain('*Owner*\nalice@example.com');
    expect(all).toContain('inside the 3-day warning threshold');
    expect(all).toContain('*Strategy*\nnotify only');
    expect(all).toContain('*Next:* ask alice@example.com to create a new token');
    expect(m.text).toContain('personal access token "ci-deployer" (to-7h2k1-0a9sd-b41c2v) of alice@example.com expires in 2 days');
  });

  it.each([true, false])("emphasises the worker's own identity: %s", (own) => {
    const credential = { ...base.credential, isOwnIdentity: own };
    const m = renderNotification({ ...base, credential }, { now: NOW });
    expect(headerText(m).startsWith(":rotating_light: Rotator's own personal access token")).toBe(own);
    expect(m.text.startsWith("URGENT: this is the rotator's own identity")).toBe(own);
    expect(mrkdwnTexts(m).some((t) => t.includes("*This is the rotator's own identity.*"))).toBe(own);
  });
});

describe('scan digest', () => {
  const digest = examples['scan-digest'] as Extract<Notification, { type: 'scan-digest' }>;
  const urgentOf = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      credential: exampleCredential({ id: `us-${i}`, key: `sa:us-${i}`, name: `bot-${i}`, expiresAt: NOW + i * DAY_MS }, NOW),
      state: 'warn' as const,
      daysLeft: i,
    }));

  it('shows counts by state, rotations queued and identity errors', () => {
    const m = renderNotification(digest, { now: NOW });
    const all = mrkdwnTexts(m).join('\n');
    expect(headerText(m)).toBe(':bar_chart: Credential scan: 3 need attention');
    expect(all).toContain('*12 credentials:* 0 expired · 1 rotate · 1 warn · 1 unknown · 1 inactive · 8 ok');
    expect(all).toContain('*Rotations queued:* 1');
    expect(all).toContain('*Could not list 1 identity*\n• `watcher`: listing service accounts failed: 401 token expired');
    expect(m.text).toContain('1 rotation queued. 1 identity could not be listed.');
  });

  it.each([
    // urgent listed, needing attention, cap, expected tail
    [15, 15, 10, '…and 5 more'],
    [12, 40, 10, '…and 30 more'],
    [3, 3, 10, null],
    [4, 4, 2, '…and 2 more'],
  ])('%d urgent of %d needing attention, cap %d: %s', (listed, attention, maxUrgent, tail) => {
    const n = { ...digest, urgent: urgentOf(listed), counts: { ...digest.counts, warn: attention, rotate: 0, unknown: 0 } };
    const m = renderNotification(n, { now: NOW, maxUrgent });
    const urgentSection = mrkdwnTexts(m).find((t) => t.startsWith('*Most urgent*')) ?? '';
    const lines = urgentSection.split('\n').slice(1);
    expect(lines.filter((l) => l.startsWith(':warning:'))).toHaveLength(Math.min(listed, maxUrgent));
    if (tail) expect(lines.at(-1)).toBe(tail);
    else expect(urgentSection).not.toContain('more');
    expect(lines[0]).toContain('*bot-0* (`us-0`), service account: expires now');
  });

  it('says everything is fine when nothing needs attention', () => {
    const n = { ...digest, urgent: [], errors: [], total: 5, counts: { ok: 5, warn: 0, rotate: 0, expired: 0, inactive: 0, unknown: 0 } };
    const m = renderNotification(n, { now: NOW });
    expect(headerText(m)).toBe(':white_check_mark: Credential scan: all 5 credentials OK');
    expect(mrkdwnTexts(m).some((t) => t.includes('Most urgent'))).toBe(false);
  });

  it('calls a scan with nothing urgent but a failed identity incomplete, not OK', () => {
    const n = { ...digest, urgent: [], total: 5, counts: { ok: 5, warn: 0, rotate: 0, expired: 0, inactive: 0, unknown: 0 } };
    const m = renderNotification(n, { now: NOW });
    expect(headerText(m)).toBe(':warning: Credential scan incomplete: 1 identity could not be listed');
  });

  it('stays within Slack limits with thousands of urgent credentials and errors', () => {
    const errors = Array.from({ length: 5000 }, (_, i) => ({ identity: `id-${i}`, message: 'x'.repeat(5000) }));
    const n = { ...digest, urgent: urgentOf(1000), errors, counts: { ...digest.counts, warn: 1000 } };
    const m = renderNotification(n, { now: NOW, maxUrgent: 1000 });
    expectWithinSlackLimits(m);
  });
});

describe('rotation messages', () => {
  it('succeeded: new id, new expiry, when the old one retires, reason', () => {
    const m = renderNotification(examples['rotation-succeeded'], { now: NOW });
    const all = mrkdwnTexts(m).join('\n');
    expect(headerText(m)).toBe(':white_check_mark: Service account rotated');
    expect(all).toContain('was replaced by the new service account `us-5kq2d-0pl1m-8r7tu3vbn1`');
    expect(all).toContain('The new credential expires in 90 days, on 2025-06-08 12:00 UTC.');
    expect(all).toContain('keeps working until 2025-03-11 12:00 UTC (in 1 day)');
    expect(m.text).toContain('(reason: expires in 6 days (rotate-before window 14 days))');
  });

  it('succeeded with rekey: the token is unchanged', () => {
    const n = examples['rotation-succeeded'] as Extract<Notification, { type: 'rotation-succeeded' }>;
    const m = renderNotification({ ...n, credential: { ...n.credential, strategy: 'rekey' } }, { now: NOW });
    expect(mrkdwnTexts(m).join('\n')).toContain('has a new key credential `us-5kq2d-0pl1m-8r7tu3vbn1`; its token is unchanged.');
  });

  it('failed: why, impact and action', () => {
    const m = renderNotification(examples['rotation-failed'], { now: NOW });
    const all = mrkdwnTexts(m);
    expect(headerText(m)).toBe(':x: Rotation of service account failed');
    expect(all).toContain('*Why:* Dfns answered 403: the operator lacks Auth:ServiceAccounts:Create');
    expect(all).toContain('*Impact:* the current credential is untouched and keeps working');
    expect(all.some((t) => t.startsWith('*Action:* grant the operator'))).toBe(true);
    expect(m.text).toContain('step create: Dfns answered 403: the operator lacks Auth:ServiceAccounts:Create. Impact: the current credential');
  });

  it('parked: approval pending, with the approval id', () => {
    const m = renderNotification(examples['rotation-parked'], { now: NOW });
    expect(headerText(m)).toBe(':hourglass_flowing_sand: Rotation of service account waiting for approval');
    expect(mrkdwnTexts(m).join('\n')).toContain('a Dfns policy requires approval (approval `ap-2b5n4-q8mjx-7s0pp1`)');
    expect(m.text).toContain('Approval needed:');
  });

  it.each(['deactivated', 'archived'] as const)('retired: %s', (outcome) => {
    const n = examples['credential-retired'] as Extract<Notification, { type: 'credential-retired' }>;
    const m = renderNotification({ ...n, outcome }, { now: NOW });
    expect(headerText(m)).toBe(`:wastebasket: Old service account ${outcome}`);
    expect(m.text).toContain(`"payments-signer" (us-3u9ne-8kkfb-9e5ocr6ckj) was ${outcome}`);
  });
});

describe('mrkdwn safety', () => {
  const hostile = '<!channel> <@U024BE7LH> & <https://evil.example|click> `x`\n*Rotation succeeded*';
  const hostileCredential = exampleCredential({ name: hostile, id: '<!here>', owner: '<!everyone>', kind: 'pat', key: 'pat:x' }, NOW);

  it.each(allTypes.map((n) => [n.type, n] as const))('%s escapes every external value', (_type, n) => {
    const m = renderNotification(withCredential(n, hostileCredential), { now: NOW });
    for (const t of mrkdwnTexts(m)) {
      // No control sequence survives: only the escaped form.
      expect(t).not.toMatch(/[<>]/);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(mrkdwnTexts(m).join('\n')).toContain('&lt;!channel&gt;');
    // The (unparsed) header never carries an external value, and a name cannot start a new line.
    expect(headerText(m)).not.toContain('channel');
    expect(mrkdwnTexts(m).join('\n')).not.toContain('\n*Rotation succeeded*');
  });

  it('escaping round-trips', () => {
    expect(escapeMrkdwn('a & <b> &amp;')).toBe('a &amp; &lt;b&gt; &amp;amp;');
    expect(unescapeMrkdwn(escapeMrkdwn('a & <b> &amp;'))).toBe('a & <b> &amp;');
  });

  it('links the dashboard without credentials, and only over http(s)', () => {
    expect(dashboardLink('https://ops:hunter2@dash.example.com/q?a=1&b=2|x')).toBe('<https://dash.example.com/q?a=1&amp;b=2%7Cx|Open the dashboard>');
    expect(dashboardLink('javascript:alert(1)')).toBe('');
    expect(dashboardLink('not a url')).toBe('');
    const m = renderNotification(examples['rotation-failed'], { now: NOW, dashboardUrl: 'https://dash.example.com/' });
    expect(mrkdwnTexts(m)).toContain('<https://dash.example.com/|Open the dashboard>');
  });
});

describe('truncation within Slack limits', () => {
  const huge = 'A&<'.repeat(20_000);

  it.each(allTypes.map((n) => [n.type, n] as const))('%s with huge values', (_type, n) => {
    const credential = exampleCredential({ name: huge, id: huge, owner: huge, kind: 'pat' }, NOW);
    const big: Notification =
      n.type === 'rotation-failed'
        ? { ...n, credential, error: huge, impact: huge, action: huge, step: huge }
        : n.type === 'expiry-warning'
          ? { ...n, credential, nextAction: huge }
          : withCredential(n, credential);
    const m = renderNotification(big, { now: NOW, dashboardUrl: `https://dash.example.com/${'p'.repeat(5000)}` });
    expectWithinSlackLimits(m);
    for (const t of mrkdwnTexts(m)) expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it.each([
    ['abcdef', 4, 'abc…'],
    ['ab &amp; cd', 6, 'ab …'],
    ['ab &amp; cd', 9, 'ab &amp;…'],
    ['see <https://x.example/a|link> now', 12, 'see …'],
    ['see <https://x.example/a|link> now', 31, 'see <https://x.example/a|link>…'],
    ['ab😀cd', 4, 'ab…'],
  ])('truncateMrkdwn(%j, %d) = %j', (input, max, expected) => {
    const out = truncateMrkdwn(input, max);
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
  });

  it('caps a message at 50 blocks and says so', () => {
    const blocks: SlackBlock[] = Array.from({ length: 60 }, (_, i) => contextBlock(`b${i}`));
    const limited = limitBlocks(blocks) as Block[];
    expect(limited).toHaveLength(50);
    expect(limited[49]!.elements![0]!.text).toBe('_11 more blocks left out: Slack allows 50 per message._');
  });
});

describe('old credential still in use', () => {
  const base = examples['retire-postponed'] as Extract<Notification, { type: 'retire-postponed' }>;

  it('names the credential, its last signed use, and when retirement is checked again', () => {
    const m = renderNotification(base, { now: NOW });
    expect(m.text).toContain(`${formatUtc(base.lastUseAt)} (1 hour ago)`);
    expect(m.text).toContain(base.credential.id);
    expect(m.text).toContain(`checked again ${formatUtc(base.retireAt!)}`);
    expect(m.text).toContain(`at most until ${formatUtc(base.maxRetireAt)}`);
    expect(m.text).toContain(base.newCredentialId!);
  });

  it('at the maximum, says a person decides and how', () => {
    const m = renderNotification({ ...base, outcome: 'held', retireAt: null }, { now: NOW });
    expect(m.text).toContain(`npx dfns-rotator retire ${base.rotationId} --force --reason 'its consumers have moved'`);
    expect(JSON.stringify(m.blocks)).toContain('still in use');
  });
});
