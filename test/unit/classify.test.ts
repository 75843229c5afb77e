import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import { byUrgency, classifyCredential, thresholdFor, type ClassifyInput, type ClassifyPolicy } from '../../src/jobs/core/classify.js';

const now = Date.parse('2026-06-01T12:00:00Z');
const policy: ClassifyPolicy = { warnDays: [30, 14, 7, 3, 1], rotateBeforeDays: 14, assumedLifetimeDays: 730, maxKeyAgeDays: null };
const createdDaysAgo = (d: number) => new Date(now - d * DAY_MS).toISOString();
const held = (daysLeft: number, createdAgo = 100): ClassifyInput => ({ isActive: true, dateCreated: createdDaysAgo(createdAgo), evidence: { kind: 'token', expiresAt: now + daysLeft * DAY_MS } });

describe('classifyCredential', () => {
  it.each([
    ['far from expiry', held(200), { state: 'ok', expirySource: 'token', daysLeft: 200, threshold: null }],
    ['inside 30 days', held(29.5), { state: 'warn', daysLeft: 29, threshold: 30 }],
    ['exactly 30 days left is inside the threshold', held(30), { state: 'warn', threshold: 30 }],
    ['inside the rotate window', held(13), { state: 'rotate', threshold: 14 }],
    ['inside 7 days', held(6.9), { state: 'rotate', threshold: 7, daysLeft: 6 }],
    ['half a day left', held(0.5), { state: 'rotate', threshold: 1, daysLeft: 0 }],
    ['expired a second ago', { ...held(0), evidence: { kind: 'token' as const, expiresAt: now - 1000 } }, { state: 'expired', daysLeft: -1, threshold: null }],
    ['estimated from dateCreated when not held', { isActive: true, dateCreated: createdDaysAgo(720), evidence: { kind: 'not-held' as const } }, { state: 'rotate', expirySource: 'estimate', daysLeft: 10 }],
    ['estimated and past the assumed lifetime', { isActive: true, dateCreated: createdDaysAgo(731), evidence: { kind: 'not-held' as const } }, { state: 'expired', expirySource: 'estimate' }],
    ['held token without exp', { isActive: true, dateCreated: createdDaysAgo(5), evidence: { kind: 'token-without-exp' as const, problem: 'the token has no exp claim' } }, { state: 'unknown', expirySource: 'none', expiresAt: null, daysLeft: null }],
    ['unparseable dateCreated', { isActive: true, dateCreated: 'yesterday', evidence: { kind: 'not-held' as const } }, { state: 'unknown' }],
    ['inactive wins over expiry', { ...held(-5), isActive: false }, { state: 'inactive' }],
  ])('%s', (_name, input, expected) => {
    expect(classifyCredential(input, policy, now)).toMatchObject(expected);
  });

  it('says estimated in the reason when the expiry is an estimate', () => {
    const c = classifyCredential({ isActive: true, dateCreated: createdDaysAgo(725), evidence: { kind: 'not-held' } }, policy, now);
    expect(c.reason).toBe('expires in 5 days (estimated), inside the 14-day rotation window');
    expect(classifyCredential(held(5), policy, now).reason).toBe('expires in 5 days, inside the 14-day rotation window');
    expect(classifyCredential(held(-2), policy, now).reason).toBe('expired 2 days ago');
  });

  it('rotates a key older than its maximum age even far from expiry', () => {
    const c = classifyCredential(held(300, 100), { ...policy, maxKeyAgeDays: 90 }, now);
    expect(c).toMatchObject({ state: 'rotate', keyTooOld: true, threshold: null });
    expect(c.reason).toMatch(/^key is 100 days old \(max 90\)/);
    expect(classifyCredential({ ...held(300, 100), keyCreatedAt: now - 10 * DAY_MS }, { ...policy, maxKeyAgeDays: 90 }, now).state).toBe('ok');
  });

  it('never warns or rotates a credential at birth: thresholds at or above its lifetime are skipped, and the rotation window is at most a third of it', () => {
    // A 30-day PAT just created: under the default 30/14/7/3/1 and 14-day window it was `warn` at once.
    const born = held(30, 0);
    expect(classifyCredential(born, policy, now)).toMatchObject({ state: 'ok', threshold: null });
    // Its later life: warned at 14, 7, 3, 1 days; rotated in its last third (10 days), not 14.
    expect(classifyCredential(held(12, 18), policy, now)).toMatchObject({ state: 'warn', threshold: 14 });
    const due = classifyCredential(held(9.5, 20.5), policy, now);
    expect(due).toMatchObject({ state: 'rotate', threshold: 14 });
    expect(due.reason).toBe('expires in 9 days, inside the last third of its 30-day lifetime');
    // A 7-day token: only the 3- and 1-day thresholds apply.
    expect(classifyCredential(held(7, 0), policy, now)).toMatchObject({ state: 'ok', threshold: null });
    expect(classifyCredential(held(2.5, 4.5), policy, now)).toMatchObject({ state: 'warn', threshold: 3 });
    expect(classifyCredential(held(2, 5), policy, now)).toMatchObject({ state: 'rotate', threshold: 3 });
    // A long-lived credential keeps the configured window.
    expect(classifyCredential(held(13, 352), policy, now).reason).toBe('expires in 13 days, inside the 14-day rotation window');
  });

  it('moves through thresholds as time passes, each crossed once', () => {
    const input = held(40);
    const seen: (number | null)[] = [];
    for (let day = 0; day <= 41; day++) {
      const t = classifyCredential(input, policy, now + day * DAY_MS).threshold;
      if (seen[seen.length - 1] !== t) seen.push(t);
    }
    expect(seen).toEqual([null, 30, 14, 7, 3, 1, null]);
  });
});

describe('thresholdFor', () => {
  it('picks the smallest threshold crossed', () => {
    expect(thresholdFor(2.5 * DAY_MS, [30, 14, 7, 3, 1])).toBe(3);
    expect(thresholdFor(31 * DAY_MS, [30, 14, 7, 3, 1])).toBeNull();
  });
});

describe('byUrgency', () => {
  it('sorts expired, rotate, warn, unknown, ok, inactive; soonest first', () => {
    const items = [
      { name: 'ok', state: 'ok' as const, expiresAt: 5 },
      { name: 'warn-late', state: 'warn' as const, expiresAt: 20 },
      { name: 'inactive', state: 'inactive' as const, expiresAt: 1 },
      { name: 'expired', state: 'expired' as const, expiresAt: 1 },
      { name: 'warn-soon', state: 'warn' as const, expiresAt: 10 },
      { name: 'unknown', state: 'unknown' as const, expiresAt: null },
      { name: 'rotate', state: 'rotate' as const, expiresAt: 30 },
    ];
    expect([...items].sort(byUrgency).map((i) => i.name)).toEqual(['expired', 'rotate', 'warn-soon', 'warn-late', 'unknown', 'ok', 'inactive']);
  });
});
