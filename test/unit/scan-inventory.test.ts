import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../src/config/index.js';
import { inventory, scanSummary, type ScanReading } from '../../src/jobs/core/scan-inventory.js';
import { makeServiceAccount, makeStored } from '../fixtures/builders.js';
import { TEST_POLICY_CONFIG } from '../fixtures/policy-config.js';

/** The pure half of a scan, as `plan` and the daemon's scan both use it: reading in, inventory and what is due out. */
const now = Date.parse('2026-03-01T00:00:00Z');
const config = TEST_POLICY_CONFIG;

function reading(): ScanReading {
  return {
    listing: {
      serviceAccounts: [
        makeServiceAccount({ id: 'us-pay', name: 'pay', now, ageDays: 355 }),
        makeServiceAccount({ id: 'us-late', name: 'late', now, ageDays: 360 }),
        makeServiceAccount({ id: 'us-manual', name: 'manual-x', now, ageDays: 360 }),
        makeServiceAccount({ id: 'us-legacy', name: 'legacy', now, ageDays: 710 }),
        makeServiceAccount({ id: 'us-fine', name: 'fine', now, ageDays: 10 }),
      ],
      pats: [],
    },
    summaries: [
      makeStored({ secretName: 'sa/pay', credentialId: 'us-pay', now, expiresInDays: 10 }),
      makeStored({ secretName: 'sa/late', credentialId: 'us-late', now, expiresInDays: 5 }),
      makeStored({ secretName: 'sa/manual-x', credentialId: 'us-manual', now, expiresInDays: 5 }),
    ],
    damaged: [],
    heldTokens: [],
    operatorUsername: 'op',
    errors: [],
  };
}

const policyFor = (s: Parameters<typeof resolvePolicy>[1]) => resolvePolicy(config, s);

describe('inventory: the pure step of a scan', () => {
  it('classifies every listed credential, most urgent first', () => {
    const { items } = inventory(reading(), policyFor, now);
    expect(items.map((i) => [i.name, i.state, i.managed])).toEqual([
      ['late', 'rotate', true],
      ['manual-x', 'rotate', true],
      ['pay', 'rotate', true],
      ['legacy', 'warn', false],
      ['fine', 'ok', false],
    ]);
  });

  it('resolves each credential\'s policy once per scan', () => {
    const asked: string[] = [];
    inventory(reading(), (s) => (asked.push(s.id), policyFor(s)), now);
    expect(asked.sort()).toEqual(['us-fine', 'us-late', 'us-legacy', 'us-manual', 'us-pay']);
  });

  it('rotates the managed credentials that are due and have an automatic strategy', () => {
    const { rotations } = inventory(reading(), policyFor, now);
    expect(rotations.map((r) => [r.secretName, r.strategy])).toEqual([['sa/late', 'replace'], ['sa/pay', 'replace']]);
  });

  it('plans each warning with its marker, quiet about a rotated credential until it is overdue under its own policy', () => {
    const { warnings } = inventory(reading(), policyFor, now);
    // pay (10 days, threshold 14) is inside its rotation window: the rotation is the news, not a warning.
    expect(warnings.map((w) => w.markerKey)).toEqual(['warn:sa:us-late:7', 'warn:sa:us-manual:7', 'warn:sa:us-legacy:30']);
    // The window is each credential's policy: with 3 days before expiry, 5 days left is not overdue.
    const lenient = inventory(reading(), (s) => ({ ...policyFor(s), ...(s.name === 'late' ? { rotateBeforeDays: 3 } : {}) }), now);
    expect(lenient.warnings.map((w) => w.markerKey)).toEqual(['warn:sa:us-manual:7', 'warn:sa:us-legacy:30']);
  });

  it('is a function of its inputs: the same reading and time give the same answer, and the reading is left as it was', () => {
    const input = reading();
    const copy = structuredClone(input);
    expect(inventory(input, policyFor, now)).toEqual(inventory(input, policyFor, now));
    expect(input).toEqual(copy);
    // A later time moves the states: 20 more days expire all but fine (legacy's estimate had 20 days left).
    const later = inventory(input, policyFor, now + 20 * 86_400_000);
    expect(later.items.filter((i) => i.state === 'expired').map((i) => i.name).sort()).toEqual(['late', 'legacy', 'manual-x', 'pay']);
    expect(later.rotations.map((r) => r.secretName).sort()).toEqual(['sa/late', 'sa/pay']);
  });
});

describe('scanSummary', () => {
  it('counts the states and carries the reading errors, and damaged secrets only when there are some', () => {
    const read = reading();
    const { items } = inventory(read, policyFor, now);
    const summary = scanSummary({ scanId: 's1', startedAt: now, finishedAt: now + 5 }, { ...read, errors: [{ identity: 'watcher', message: 'down' }] }, items, { rotations: 2, notifications: 3 });
    expect(summary).toEqual({
      scanId: 's1', startedAt: now, finishedAt: now + 5,
      counts: { ok: 1, warn: 1, rotate: 3, expired: 0, inactive: 0, unknown: 0 }, total: 5,
      rotationsQueued: 2, notificationsQueued: 3, errors: [{ identity: 'watcher', message: 'down' }],
    });
    const damaged = [{ secretName: 'sa/bad', where: 'file', problem: 'bad json', action: 'restore it' }];
    expect(scanSummary({ scanId: 's2', startedAt: now, finishedAt: now }, { errors: [], damaged }, items, { rotations: 0, notifications: 0 }).damaged).toEqual(damaged);
  });
});
