import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { noMetrics } from '../../src/metrics.js';
import { applyEvent, newRotation, nextRetireEffect } from '../../src/jobs/core/rotation-machine.js';
import type { RotationEffect, RotationEvent, RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { noteOf, runSteps, saveStep, type StepDeps } from '../../src/jobs/effects/step-runner.js';
import type { AuditEntry } from '../../src/jobs/state/audit.js';
import { RotationConflictError, type RotationStore } from '../../src/jobs/state/rotation-store.js';

const t0 = Date.parse('2026-05-01T00:00:00Z');
const HOUR = 3_600_000;

/** Rotation records in memory, with the Redis store's compare-and-set on `revision`. */
function memoryRotations(): RotationStore & { records: Map<string, RotationRecord>; failNextSave: (before?: () => void) => void } {
  const records = new Map<string, RotationRecord>();
  let interfere: (() => void) | null = null;
  return {
    records,
    failNextSave(before = () => {}) {
      interfere = before;
    },
    async get(id) {
      return records.get(id) ?? null;
    },
    async save(record) {
      if (interfere) {
        const run = interfere;
        interfere = null;
        run();
      }
      if ((records.get(record.rotationId)?.revision ?? 0) !== record.revision) throw new RotationConflictError(record.rotationId, record.revision);
      const saved = { ...record, revision: record.revision + 1 };
      records.set(record.rotationId, saved);
      return saved;
    },
    active: async () => null,
    claimActive: async (_s, rotationId, jobId) => ({ rotationId, jobId }),
    releaseActive: async () => {},
    recent: async () => [...records.values()],
  };
}

function setup() {
  const rotations = memoryRotations();
  const audit: AuditEntry[] = [];
  const saved: string[] = [];
  const deps: StepDeps = {
    rotations,
    audit: { record: async (e) => void audit.push(e), read: async () => [...audit].reverse() },
    metrics: noMetrics,
    clock: new ManualClock(t0 + 24 * HOUR),
    logger: silentLogger,
    actor: 'test',
    hooks: { afterStep: (r) => void saved.push(r.step) },
  };
  return { rotations, audit, saved, deps };
}

/** A replace rotation promoted at t0, its retirement due at t0 + 24 h, as stored (revision 1). */
async function promoted(rotations: RotationStore, step: 'announced' | 'retire-scheduled' = 'retire-scheduled'): Promise<RotationRecord> {
  const events: RotationEvent[] = [
    { type: 'staged', pendingVersionId: 2 },
    { type: 'create-begun', attempt: 1 },
    { type: 'created', credentialId: 'us-new', credId: 'cr-new', name: 'payments-bot-g2', expiresAt: null },
    { type: 'verified' },
    { type: 'promoted', at: t0 },
    { type: 'announced' },
    ...(step === 'retire-scheduled' ? [{ type: 'retire-scheduled', retireAt: t0 + 24 * HOUR } as const] : []),
  ];
  const r = events.reduce((acc, e) => applyEvent(acc, e, t0), newRotation({
    rotationId: '01JROT', secretName: 'payments', kind: 'service-account', strategy: 'replace', reason: 'test', requestedBy: 'test',
    old: { credentialId: 'us-old', versionId: 1, credId: 'cr-old', name: 'payments-bot', permissionIds: [], daysValid: 90 }, policy: { strategy: 'replace', rekeyFallback: 'replace', keyAlgorithm: 'ed25519' }, now: t0,
  }));
  return rotations.save(r);
}

/** The retirement's effects as the retire job runs them, recorded instead of sent to Dfns. */
function retireRun(ran: string[], now: () => number) {
  return async (_r: RotationRecord, effect: RotationEffect): Promise<RotationEvent | null> => {
    ran.push(effect.type);
    if (effect.type === 'deactivate-old') return { type: 'deactivated', at: now() };
    if (effect.type === 'archive-old') return { type: 'archived' };
    return null;
  };
}

describe('the step runner: the retirement through the same loop as the rotation', () => {
  it('deactivates then archives, saving each step with its audit entry before the next effect', async () => {
    const { rotations, audit, saved, deps } = setup();
    const ran: string[] = [];
    const start = await promoted(rotations);
    const result = await runSteps(deps, start, { next: (r) => nextRetireEffect(r, deps.clock.now(), 0), run: retireRun(ran, () => deps.clock.now()), reapplyOnConflict: true });
    expect(ran).toEqual(['deactivate-old', 'archive-old']);
    expect(saved).toEqual(['deactivated', 'done']);
    expect(result.stoppedAt.type).toBe('finished');
    expect(result.record).toMatchObject({ step: 'done', deactivatedAt: t0 + 24 * HOUR, revision: 3 });
    expect(await rotations.get('01JROT')).toEqual(result.record);
    expect(audit.map((e) => [e.action, e.step, e.outcome])).toEqual([
      ['deactivated old credential', 'deactivated', 'ok'],
      ['archived old credential', 'done', 'ok'],
    ]);
  });

  it('stops before an effect the machine says is not due (the overlap, the archive delay), running nothing', async () => {
    const { rotations, audit, deps } = setup();
    const ran: string[] = [];
    const early = await runSteps(deps, await promoted(rotations), { next: (r) => nextRetireEffect(r, t0 + HOUR, 0), run: retireRun(ran, () => t0) });
    expect(early.stoppedAt).toMatchObject({ type: 'wait', why: expect.stringMatching(/overlap window ends/) });
    const deactivated = await runSteps(deps, early.record, {
      next: (r) => nextRetireEffect(r, deps.clock.now(), 168 * HOUR),
      run: retireRun(ran, () => deps.clock.now()),
    });
    expect(ran).toEqual(['deactivate-old']);
    expect(deactivated.stoppedAt).toMatchObject({ type: 'wait', why: expect.stringMatching(/archive due/) });
    expect(deactivated.record.step).toBe('deactivated');
    expect(audit).toHaveLength(1);
  });

  it('stops after a saved step when the job hands the rest to another (the archive job)', async () => {
    const { rotations, deps } = setup();
    const ran: string[] = [];
    const after: string[] = [];
    const result = await runSteps(deps, await promoted(rotations), {
      next: (r) => nextRetireEffect(r, deps.clock.now(), 0),
      run: retireRun(ran, () => deps.clock.now()),
      afterSave: async (r, event) => {
        after.push(`${event.type}@${r.step}`);
        return event.type === 'deactivated';
      },
    });
    expect(ran).toEqual(['deactivate-old']);
    expect(after).toEqual(['deactivated@deactivated']);
    expect(result).toMatchObject({ record: { step: 'deactivated' }, stoppedAt: { type: 'deactivate-old' } });
  });

  it('re-applies a retire step to a record the rotate job saved meanwhile (its last step, after it queued the retire job)', async () => {
    const { rotations, audit, deps } = setup();
    const announced = await promoted(rotations, 'announced');
    rotations.failNextSave(() => {
      // The rotate job records `retire-scheduled` while the retire job runs.
      const r = rotations.records.get('01JROT')!;
      rotations.records.set('01JROT', { ...applyEvent(r, { type: 'retire-scheduled', retireAt: t0 + 24 * HOUR }, t0), revision: r.revision + 1 });
    });
    const result = await runSteps(deps, announced, { next: (r) => nextRetireEffect(r, deps.clock.now(), 168 * HOUR), run: retireRun([], () => deps.clock.now()), reapplyOnConflict: true });
    expect(result.record).toMatchObject({ step: 'deactivated', retireAt: t0 + 24 * HOUR, revision: 3 });
    expect(audit.map((e) => e.action)).toEqual(['deactivated old credential']);
  });

  it('without re-applying (the rotate job), a conflict stops the run and reports the last saved record', async () => {
    const { rotations, audit, deps } = setup();
    const start = await promoted(rotations);
    rotations.failNextSave(() => {
      const r = rotations.records.get('01JROT')!;
      rotations.records.set('01JROT', { ...r, revision: r.revision + 1 });
    });
    const seen: RotationRecord[] = [];
    await expect(runSteps(deps, start, {
      next: (r) => nextRetireEffect(r, deps.clock.now(), 0),
      run: retireRun([], () => deps.clock.now()),
      onError: async (r) => void seen.push(r),
    })).rejects.toBeInstanceOf(RotationConflictError);
    expect(seen).toEqual([start]);
    expect(audit).toEqual([]);
  });

  it('a step the machine refuses on the fresh record is not saved: the conflict is a real one', async () => {
    const { rotations, deps } = setup();
    const start = await promoted(rotations);
    rotations.failNextSave(() => {
      // Another retire job already deactivated it.
      const r = rotations.records.get('01JROT')!;
      rotations.records.set('01JROT', { ...applyEvent(r, { type: 'deactivated', at: t0 }, t0), revision: r.revision + 1 });
    });
    await expect(saveStep(deps, applyEvent(start, { type: 'deactivated', at: t0 + 1 }, t0), noteOf({ type: 'deactivated', at: t0 + 1 }), { type: 'deactivated', at: t0 + 1 }))
      .rejects.toThrow(/event deactivated is not valid at step deactivated/);
    expect((await rotations.get('01JROT'))!.deactivatedAt).toBe(t0);
  });
});

describe('the step runner: what the audit log says of each step', () => {
  it.each([
    [{ type: 'promoted', at: t0 } as RotationEvent, { action: 'promoted', outcome: 'ok' }],
    [{ type: 'name-taken', note: 'held by us-x' } as RotationEvent, { action: 'name-taken', outcome: 'ok', detail: 'held by us-x' }],
    [{ type: 'permanent-failure', error: { code: 'X', message: 'boom', step: 'creating' } } as RotationEvent, { action: 'permanent-failure', outcome: 'failed', detail: 'boom' }],
    [{ type: 'deactivated', at: t0 } as RotationEvent, { action: 'deactivated old credential', outcome: 'ok', log: true }],
    [{ type: 'archived' } as RotationEvent, { action: 'archived old credential', outcome: 'ok', log: true }],
    [{ type: 'usage-checked', retireAt: null, usage: { status: 'not-visible', checkedAt: t0, checkedUntil: null, lastUseAt: null, postponements: 0 } } as RotationEvent, { action: 'usage not visible: retiring after the overlap alone', outcome: 'ok', log: true }],
  ])('%j', (event, note) => {
    expect(noteOf(event)).toEqual(note);
  });
});
