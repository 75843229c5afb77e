import { describe, expect, it } from 'vitest';
import { scanIntervalMs } from '../../src/commands/scan-interval.js';
import { statusProblems, type StatusReport } from '../../src/commands/status-report.js';
import { formatDuration } from '../../src/notify/format-time.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 2, 12, 0, 0);

function report(patch: { lastFinishedAt?: number | null; failures?: number; evictionPolicy?: string | null; evictionProblem?: string | null; paused?: readonly StatusReport['pausedQueues'][number][]; damaged?: readonly string[]; held?: boolean; identities?: readonly StatusReport['identities'][number][] }): Omit<StatusReport, 'problems'> {
  const counts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
  return {
    at: NOW,
    redis: { where: 'redis://127.0.0.1:6379', evictionPolicy: patch.evictionPolicy === undefined ? 'noeviction' : patch.evictionPolicy, evictionProblem: patch.evictionProblem ?? null },
    scan: { schedule: '17 * * * *', intervalMs: HOUR, staleAfterMs: 2 * HOUR, lastFinishedAt: patch.lastFinishedAt === undefined ? NOW - HOUR : patch.lastFinishedAt, total: 0, counts: null, rotationsQueued: 0, identityErrors: [], damagedSecrets: [...(patch.damaged ?? [])] },
    queues: { scan: counts, rotate: counts, retire: counts, notify: counts },
    pausedQueues: [...(patch.paused ?? [])],
    rotations: {
      inFlight: [],
      awaitingRetire: 0,
      heldRetirements: patch.held ? [{ rotationId: '01JA2B3C4D5E6F7G8H9JKMNPQR', secretName: 'payments/api', credential: 'sa:us-old', lastUseAt: NOW - HOUR }] : [],
      recentFailures: Array.from({ length: patch.failures ?? 0 }, (_, i) => ({ rotationId: null, secretName: `s${i}`, step: 'failed', error: 'x', at: NOW })),
    },
    notifyBacklog: 0,
    identities: [...(patch.identities ?? [])],
  };
}

describe('scan interval', () => {
  it.each([
    ['17 * * * *', null, HOUR],
    ['*/10 * * * *', null, 10 * 60_000],
    // Weekdays only: the longest gap is the weekend, so a Monday check does not call the scan stale.
    ['0 9 * * 1-5', 'Europe/Paris', 72 * HOUR],
  ])('%s (%s) allows %d ms between scans', (expression, timezone, expected) => {
    expect(scanIntervalMs(expression, timezone)).toBe(expected);
  });
});

describe('status problems', () => {
  it.each([
    ['healthy', {}, []],
    ['no scan ever', { lastFinishedAt: null }, ['no scan has finished yet: is the daemon running?']],
    ['scan exactly at the limit', { lastFinishedAt: NOW - 2 * HOUR }, []],
    ['scan past the limit', { lastFinishedAt: NOW - 2 * HOUR - 1 }, ['the last scan finished 2 hours ago, more than twice the scan interval (1 hour, schedule "17 * * * *"): is the daemon running?']],
    ['one failure', { failures: 1 }, ['1 rotation failed in the last 24 hours (see `npx dfns-rotator history`)']],
    ['a paused queue', { paused: ['rotate'] }, ["queue paused: rotate; nothing on it runs until resumed (dashboard: the queue's Resume button)"]],
    ['a damaged secret', { damaged: ['pay/api'] }, ['unreadable secret in the store: pay/api; not rotated until repaired (the inventory and `npx dfns-rotator plan` say how)']],
    ['a retirement held for a person', { held: true }, ["the old credential sa:us-old of payments/api still signs actions at the maximum overlap: move its consumers, then `npx dfns-rotator retire 01JA2B3C4D5E6F7G8H9JKMNPQR --force --reason 'its consumers have moved'` (or --extend HOURS)"]],
    ['evicting Redis', { evictionPolicy: 'allkeys-lru', evictionProblem: 'policy is allkeys-lru' }, ['policy is allkeys-lru']],
    // Managed Redis that hides INFO: warned about, but not a failing check for ever.
    ['unreadable policy', { evictionPolicy: null, evictionProblem: 'could not read maxmemory_policy' }, []],
    // Issue 8: a daemon started on a rate-limited Dfns reports the identity degraded.
    ['identity ok', { identities: [{ identity: 'operator a@b', state: 'ok', detail: 'fine', at: NOW }] }, []],
    ['degraded identity', { identities: [{ identity: 'operator a@b', state: 'degraded', detail: 'rate limited', at: NOW }] }, ['Dfns identity operator a@b is degraded since 2025-06-02T12:00:00.000Z: rate limited (the daemon retries it in the background)']],
    ['failed identity', { identities: [{ identity: 'watcher', state: 'failed', detail: '401', at: NOW }] }, ['Dfns identity watcher is failed since 2025-06-02T12:00:00.000Z: 401']],
  ] as const)('%s', (_name, patch, expected) => {
    expect(statusProblems(report(patch))).toEqual(expected);
  });

  it.each([
    [45 * 60_000, '45 minutes'],
    [2 * HOUR - 60_000, '1 hour'],
    [2 * HOUR, '2 hours'],
    [3.5 * HOUR, '3 hours'],
    [72 * HOUR, '3 days'],
  ])('%d ms reads as %s, with the one rounding rule of every message (whole units, floored)', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('status lines', () => {
  it('show each Dfns identity, and since when and why one is degraded', async () => {
    const { statusLines } = await import('../../src/commands/status.js');
    const base = report({ identities: [
      { identity: 'operator a@b', state: 'degraded', detail: 'rate limited (HTTP 429)', at: NOW - HOUR },
      { identity: 'watcher', state: 'ok', detail: 'sees 3 service accounts', at: NOW },
    ] });
    const lines = statusLines({ ...base, problems: statusProblems(base) });
    expect(lines).toContain('Dfns identity operator a@b: degraded since 2025-06-02 11:00:00 UTC: rate limited (HTTP 429)');
    expect(lines).toContain('Dfns identity watcher: ok');
    expect(lines.at(-1)).toMatch(/^PROBLEM: Dfns identity operator a@b is degraded/);
  });
});
