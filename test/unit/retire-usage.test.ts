import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { ActionLogEntry, ActionLogQuery, DfnsPort } from '../../src/dfns/port.js';
import { DfnsForbiddenError, DfnsNetworkError } from '../../src/dfns/errors.js';
import { checkRetireUsage, MIN_POSTPONE_MS, type RetireUsageDeps } from '../../src/jobs/effects/retire-usage.js';
import { newRotation } from '../../src/jobs/core/rotation-machine.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { silentLogger } from '../../src/logger.js';

/**
 * The retire decision, table by table: the audit log is served by a small in-memory port (the
 * simulator-backed end-to-end test is test/integration/consumer-rotation.test.ts).
 */
const HOUR = 3_600_000;
const PROMOTED = Date.UTC(2026, 0, 10, 12);
const OLD = 'us-old';

function record(patch: Partial<RotationRecord> = {}): RotationRecord {
  const r = newRotation({
    rotationId: '01JA2B3C4D5E6F7G8H9JKMNPQR', secretName: 'payments/api', kind: 'service-account', strategy: 'replace', reason: 'test', requestedBy: 'test', now: PROMOTED - HOUR,
    old: { credentialId: OLD, versionId: 1, credId: 'c1', name: 'pay', permissionIds: [], daysValid: 365 }, policy: { strategy: 'replace', rekeyFallback: 'replace', keyAlgorithm: 'ed25519' },
  });
  return { ...r, step: 'retire-scheduled', promotedAt: PROMOTED, retireAt: PROMOTED + 24 * HOUR, ...patch };
}

function entry(userId: string, at: number): ActionLogEntry {
  return { datePerformed: at, userId, id: 'uj-1', username: userId, credentialId: 'cr-1', actionPath: '/wallets/wa-1/transfers', summary: 'Transfer' };
}

function setup(log: ActionLogEntry[] | Error, options: { rows?: number; grace?: number; watcher?: boolean } = {}) {
  const queries: ActionLogQuery[] = [];
  const port = (identity: string, refuse: boolean) => ({
    identity,
    async listActionLogs(q: ActionLogQuery) {
      queries.push(q);
      if (refuse) throw new DfnsForbiddenError('forbidden: not authorized (Auth:Logs:Read)', { operation: 'listActionLogs', status: 403 } as never);
      if (log instanceof Error) throw log;
      const rows = log.filter((e) => e.datePerformed >= q.startTime && e.datePerformed <= q.endTime && (!q.userId || e.userId === q.userId));
      const max = options.rows ?? 1000;
      return { entries: rows.slice(0, max), truncated: rows.length > max };
    },
  }) as unknown as DfnsPort;
  const clock = new ManualClock(PROMOTED + 24 * HOUR);
  const deps: RetireUsageDeps = {
    identities: {
      operator: async () => port('operator', options.watcher === true),
      watcher: async () => (options.watcher ? port('watcher', false) : null),
      asSecret: () => { throw new Error('not used for a replaced service account'); },
    },
    store: { get: async () => null },
    config: { rotation: { overlapHours: 24, usageCheck: 'audit-log', usageGraceMinutes: options.grace ?? 15, maxOverlapHours: 72 } as never },
    clock,
    logger: silentLogger,
  };
  return { deps, clock, queries };
}

describe('checkRetireUsage', () => {
  it('retires when the old credential signed nothing after promotion + grace (signing inside the grace does not count)', async () => {
    const { deps, queries } = setup([entry(OLD, PROMOTED + 10 * 60_000), entry('us-new', PROMOTED + 2 * HOUR)]);
    const d = await checkRetireUsage(deps, record());
    expect(d).toMatchObject({ retire: true, alert: null, event: { usage: { status: 'unused', lastUseAt: null, checkedUntil: PROMOTED + 24 * HOUR } } });
    expect(queries).toEqual([{ startTime: PROMOTED + 15 * 60_000, endTime: PROMOTED + 24 * HOUR, userId: OLD }]);
  });

  it('postpones by the overlap with one alert while it still signs, then holds at the maximum', async () => {
    const { deps, clock } = setup([entry(OLD, PROMOTED + 20 * HOUR), entry(OLD, PROMOTED + 30 * HOUR), entry(OLD, PROMOTED + 71 * HOUR)]);
    const first = await checkRetireUsage(deps, record());
    expect(first).toMatchObject({ retire: false, alert: 'postponed', event: { retireAt: PROMOTED + 48 * HOUR, usage: { status: 'in-use', lastUseAt: PROMOTED + 20 * HOUR, postponements: 1 } } });

    clock.set(PROMOTED + 48 * HOUR);
    const second = await checkRetireUsage(deps, record({ usage: first.event.usage, retireAt: first.event.retireAt }));
    expect(second).toMatchObject({ retire: false, alert: null, event: { retireAt: PROMOTED + 72 * HOUR, usage: { status: 'in-use', lastUseAt: PROMOTED + 30 * HOUR, postponements: 2 } } });

    clock.set(PROMOTED + 72 * HOUR);
    const third = await checkRetireUsage(deps, record({ usage: second.event.usage }));
    expect(third).toMatchObject({ retire: false, alert: 'held', event: { retireAt: null, usage: { status: 'held', lastUseAt: PROMOTED + 71 * HOUR } } });
    const again = await checkRetireUsage(deps, record({ usage: { ...third.event.usage, status: 'held' } }));
    expect(again.alert).toBeNull();
  });

  it('never postpones by less than a minute (overlap 0 must not spin the job)', async () => {
    const { deps } = setup([entry(OLD, PROMOTED + HOUR)]);
    deps.config = { rotation: { ...deps.config.rotation, overlapHours: 0 } };
    const d = await checkRetireUsage(deps, record());
    expect(d.event.retireAt).toBe(PROMOTED + 24 * HOUR + MIN_POSTPONE_MS);
  });

  it('follows a truncated answer page by page', async () => {
    const { deps, queries } = setup([entry(OLD, PROMOTED + HOUR), entry(OLD, PROMOTED + 2 * HOUR), entry(OLD, PROMOTED + 3 * HOUR)], { rows: 2 });
    const d = await checkRetireUsage(deps, record());
    expect(d.event.usage.lastUseAt).toBe(PROMOTED + 3 * HOUR);
    expect(queries.map((q) => q.startTime)).toEqual([PROMOTED + 15 * 60_000, PROMOTED + 2 * HOUR]);
  });

  it('without Auth:Logs:Read: the overlap rule alone, and why; the watcher is asked when the operator may not', async () => {
    const refused = setup(new DfnsForbiddenError('forbidden', { operation: 'listActionLogs' } as never));
    expect(await checkRetireUsage(refused.deps, record())).toMatchObject({ retire: true, event: { usage: { status: 'not-visible', note: 'operator may not read the audit log (grant it Auth:Logs:Read)' } } });
    const viaWatcher = setup([entry(OLD, PROMOTED + HOUR)], { watcher: true });
    expect(await checkRetireUsage(viaWatcher.deps, record())).toMatchObject({ retire: false, event: { usage: { status: 'in-use' } } });
  });

  it('a transient failure is thrown (the job retries), never read as "not visible"', async () => {
    const { deps } = setup(new DfnsNetworkError('network: ECONNRESET', { operation: 'listActionLogs' } as never));
    await expect(checkRetireUsage(deps, record())).rejects.toMatchObject({ code: 'DFNS_NETWORK' });
  });

  it('says so when the overlap ended inside the grace period (nothing could show yet)', async () => {
    const { deps, clock, queries } = setup([entry(OLD, PROMOTED)]);
    clock.set(PROMOTED + 10 * 60_000);
    expect(await checkRetireUsage(deps, record())).toMatchObject({ retire: true, event: { usage: { status: 'unused', checkedUntil: null, note: expect.stringContaining('not checked') } } });
    expect(queries).toEqual([]);
  });

  it('does nothing with the check off', async () => {
    const { deps, queries } = setup([entry(OLD, PROMOTED + HOUR)]);
    deps.config = { rotation: { ...deps.config.rotation, usageCheck: 'off' } };
    expect(await checkRetireUsage(deps, record())).toMatchObject({ retire: true, event: { usage: { status: 'off' } } });
    expect(queries).toEqual([]);
  });
});
