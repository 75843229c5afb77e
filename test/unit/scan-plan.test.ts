import { describe, expect, it } from 'vitest';
import type { InventoryItem } from '../../src/model.js';
import { countStates, heldBack, planRotations, planWarnings, summarize, withoutQueued } from '../../src/jobs/core/scan-plan.js';

const DAY = 86_400_000;
const now = Date.parse('2026-05-01T00:00:00Z');

function item(over: Partial<InventoryItem> & { id: string }): InventoryItem {
  const daysLeft = over.daysLeft ?? 30;
  return {
    key: `sa:${over.id}`, kind: 'service-account', name: `bot-${over.id}`, isActive: true, dateCreated: '2026-01-01T00:00:00Z',
    expiresAt: now + daysLeft * DAY, expirySource: 'token', managed: false, role: 'unmanaged', strategy: 'notify',
    state: 'ok', reason: `expires in ${daysLeft} days`, daysLeft, threshold: null,
    ...over,
  };
}

/** A credential the worker rotates itself: managed, current, strategy replace. */
function managed(over: Partial<InventoryItem> & { id: string }): InventoryItem {
  return item({ managed: true, role: 'current', secretName: `secret-${over.id}`, strategy: 'replace', ...over });
}

const rotateBefore = () => 14;

describe('planRotations', () => {
  it('rotates managed current credentials that are due or already expired, with their secret, strategy and reason', () => {
    const plan = planRotations([
      managed({ id: 'due', state: 'rotate', daysLeft: 10, reason: 'expires in 10 days' }),
      managed({ id: 'lapsed', state: 'expired', daysLeft: -1, strategy: 'rekey', reason: 'expired 1 day ago' }),
      managed({ id: 'fine', state: 'ok' }),
      managed({ id: 'soon', state: 'warn', daysLeft: 20 }),
    ]);
    expect(plan.map((p) => [p.secretName, p.strategy, p.reason])).toEqual([
      ['secret-due', 'replace', 'expires in 10 days'],
      ['secret-lapsed', 'rekey', 'expired 1 day ago'],
    ]);
    expect(plan[0]!.item.id).toBe('due');
  });

  it('never rotates what it does not manage as current, or what has no automatic strategy', () => {
    const plan = planRotations([
      item({ id: 'foreign', state: 'rotate' }),
      managed({ id: 'notify', state: 'rotate', strategy: 'notify' }),
      managed({ id: 'pending', state: 'rotate', role: 'pending' }),
      managed({ id: 'previous', state: 'expired', role: 'previous' }),
      { ...managed({ id: 'nameless', state: 'rotate' }), secretName: undefined } as InventoryItem,
    ]);
    expect(plan).toEqual([]);
  });
});

describe('planWarnings: thresholds', () => {
  it('warns an unmanaged credential at each threshold it crosses, keyed by credential and threshold', () => {
    const warnings = planWarnings([
      item({ id: 'a', state: 'warn', threshold: 30, daysLeft: 29 }),
      item({ id: 'b', state: 'rotate', threshold: 7, daysLeft: 6, action: 'rotate it in the console' }),
    ], rotateBefore);
    expect(warnings.map((w) => w.markerKey)).toEqual(['warn:sa:a:30', 'warn:sa:b:7']);
    expect(warnings[0]!.notification).toMatchObject({ type: 'expiry-warning', state: 'warn', thresholdDays: 30, daysLeft: 29, nextAction: 'rotate it by hand' });
    expect(warnings[1]!.notification).toMatchObject({ state: 'rotate', thresholdDays: 7, nextAction: 'rotate it in the console' });
  });

  it('stays quiet about a credential the worker rotates until its rotation is overdue (a threshold below rotate-before)', () => {
    const items = [
      managed({ id: 'early', state: 'warn', threshold: 30, daysLeft: 29 }),
      managed({ id: 'at-window', state: 'rotate', threshold: 14, daysLeft: 13 }),
      managed({ id: 'overdue', state: 'rotate', threshold: 7, daysLeft: 6 }),
    ];
    const warnings = planWarnings(items, rotateBefore);
    expect(warnings.map((w) => w.markerKey)).toEqual(['warn:sa:overdue:7']);
    expect(warnings[0]!.notification.nextAction).toContain('history --secret secret-overdue');
    // The window is per credential: with rotate-before 5 days, 7 days left is not overdue yet.
    expect(planWarnings(items, () => 5)).toEqual([]);
  });

  it('warns of an expired or unknown expiry once per credential, whatever the threshold, and never of ok or inactive ones', () => {
    const warnings = planWarnings([
      item({ id: 'gone', state: 'expired', daysLeft: -3, threshold: 1 }),
      managed({ id: 'blind', state: 'unknown', daysLeft: null, expiresAt: null, expirySource: 'none' }),
      item({ id: 'fine', state: 'ok' }),
      item({ id: 'off', state: 'inactive', isActive: false }),
      item({ id: 'no-threshold', state: 'warn', threshold: null }),
    ], rotateBefore);
    expect(warnings.map((w) => w.markerKey)).toEqual(['expired:sa:gone', 'unknown:sa:blind']);
    expect(warnings[0]!.notification.thresholdDays).toBeNull();
    expect(warnings[1]!.notification.nextAction).toContain('rotate secret-blind');
  });
});

describe('planWarnings: de-duplication', () => {
  it('gives the same warning the same marker on every scan, and a new one only at the next threshold', () => {
    const first = planWarnings([item({ id: 'a', state: 'warn', threshold: 30, daysLeft: 29 })], rotateBefore);
    const again = planWarnings([item({ id: 'a', state: 'warn', threshold: 30, daysLeft: 25 })], rotateBefore);
    const next = planWarnings([item({ id: 'a', state: 'warn', threshold: 14, daysLeft: 13 })], rotateBefore);
    expect(again.map((w) => w.markerKey)).toEqual(first.map((w) => w.markerKey));
    expect(next.map((w) => w.markerKey)).toEqual(['warn:sa:a:14']);
  });

  it('skips the versions of a rotation under way and the credentials this scan just queued for rotation', () => {
    const warnings = withoutQueued(planWarnings([
      managed({ id: 'new', state: 'expired', role: 'pending' }),
      managed({ id: 'old', state: 'expired', role: 'previous' }),
      managed({ id: 'queued', state: 'expired' }),
      managed({ id: 'left', state: 'expired' }),
    ], rotateBefore), new Set(['sa:queued']));
    expect(warnings.map((w) => w.markerKey)).toEqual(['expired:sa:left']);
  });

  it('warns once per credential and threshold however many scans see it, and keeps a warning whose rotation was not queued now', () => {
    const scans = [29, 27, 25, 13, 12, 6].map((daysLeft) => {
      const threshold = daysLeft <= 7 ? 7 : daysLeft <= 14 ? 14 : 30;
      return planWarnings([item({ id: 'a', state: threshold === 30 ? 'warn' : 'rotate', threshold, daysLeft })], rotateBefore);
    });
    // What the send-once markers see over six scans: three distinct keys, one per threshold crossed.
    expect([...new Set(scans.flat().map((w) => w.markerKey))]).toEqual(['warn:sa:a:30', 'warn:sa:a:14', 'warn:sa:a:7']);
    // Two credentials at one threshold are two warnings; a queued rotation of another credential removes neither.
    const two = planWarnings([item({ id: 'a', state: 'warn', threshold: 30 }), item({ id: 'b', state: 'warn', threshold: 30 })], rotateBefore);
    expect(withoutQueued(two, new Set(['sa:c'])).map((w) => w.markerKey)).toEqual(['warn:sa:a:30', 'warn:sa:b:30']);
    expect(withoutQueued(two, new Set())).toEqual(two);
  });
});

describe('heldBack: a due rotation the scan leaves alone', () => {
  it('holds back a secret whose rotation is parked for a person, or in its failure cool-down', () => {
    expect(heldBack({ inFlight: { step: 'parked' }, inFailureCooldown: false })).toBe('parked');
    expect(heldBack({ inFlight: null, inFailureCooldown: true })).toBe('cool-down');
    expect(heldBack({ inFlight: { step: 'parked' }, inFailureCooldown: true })).toBe('parked');
  });

  it('requests one with no rotation in flight, or one still running (the queue dedupes it)', () => {
    expect(heldBack({ inFlight: null, inFailureCooldown: false })).toBeNull();
    for (const step of ['planned', 'staged', 'created', 'promoted'] as const) expect(heldBack({ inFlight: { step }, inFailureCooldown: false })).toBeNull();
    expect(heldBack({ inFlight: { step: 'created' }, inFailureCooldown: true })).toBe('cool-down');
  });
});

describe('summaries and counts', () => {
  it('summarize carries what a notification needs, owner and own-identity flag only when set', () => {
    expect(summarize(item({ id: 'a' }))).toEqual({ key: 'sa:a', kind: 'service-account', id: 'a', name: 'bot-a', expiresAt: now + 30 * DAY, expirySource: 'token', strategy: 'notify', managed: false });
    expect(summarize(item({ id: 'p', kind: 'pat', key: 'pat:p', owner: 'alice', isOwnIdentity: true }))).toMatchObject({ owner: 'alice', isOwnIdentity: true });
  });

  it('countStates counts every state, zero included', () => {
    expect(countStates([item({ id: 'a' }), item({ id: 'b', state: 'rotate' }), item({ id: 'c', state: 'rotate' })])).toEqual({ ok: 1, warn: 0, rotate: 2, expired: 0, inactive: 0, unknown: 0 });
  });
});
