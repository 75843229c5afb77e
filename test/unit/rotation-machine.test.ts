import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  externalIdFor,
  newRotation,
  nextEffect,
  nextRetireEffect,
  replacementName,
  RotationTransitionError,
} from '../../src/jobs/core/rotation-machine.js';
import type { RotationEvent, RotationRecord } from '../../src/jobs/core/rotation-types.js';

const t0 = Date.parse('2026-05-01T00:00:00Z');
const HOUR = 3_600_000;

function fresh(strategy: 'replace' | 'rekey' = 'replace'): RotationRecord {
  return newRotation({
    rotationId: '01JROT',
    secretName: 'payments',
    kind: 'service-account',
    strategy,
    reason: 'expires in 10 days',
    requestedBy: 'scan',
    old: { credentialId: 'us-old', versionId: 1, credId: 'cr-old', name: 'payments-bot', permissionIds: ['pm-1'], daysValid: 90 },
    policy: { strategy: 'replace', rekeyFallback: 'replace', keyAlgorithm: 'ed25519' },
    now: t0,
  });
}

function run(r: RotationRecord, ...events: RotationEvent[]): RotationRecord {
  return events.reduce((acc, e) => applyEvent(acc, e, t0), r);
}

const created: RotationEvent = { type: 'created', credentialId: 'us-new', credId: 'cr-new', name: 'payments-bot-g2', expiresAt: t0 + 90 * 24 * HOUR };

describe('rotation machine: the happy path of replace', () => {
  it('stages before creating, begins the create before sending it, and promotes before retiring', () => {
    let r = fresh();
    const effects: string[] = [];
    const events: Record<string, RotationEvent> = {
      stage: { type: 'staged', pendingVersionId: 2 },
      'begin-create': { type: 'create-begun', attempt: 1 },
      create: created,
      verify: { type: 'verified' },
      promote: { type: 'promoted', at: t0 + 1 },
      announce: { type: 'announced' },
      'schedule-retire': { type: 'retire-scheduled', retireAt: t0 + 24 * HOUR },
    };
    for (let i = 0; i < 10; i++) {
      const effect = nextEffect(r, { resumed: false });
      effects.push(effect.type);
      if (effect.type === 'finished') break;
      r = applyEvent(r, events[effect.type]!, t0);
    }
    expect(effects).toEqual(['stage', 'begin-create', 'create', 'verify', 'promote', 'announce', 'schedule-retire', 'finished']);
    expect(r).toMatchObject({ step: 'retire-scheduled', promotedAt: t0 + 1, retireAt: t0 + 24 * HOUR, created: { credentialId: 'us-new' } });
  });

  it('names the replacement with a generation and the create with the rotation id', () => {
    const r = run(fresh(), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 });
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'create', attempt: 1, name: 'payments-bot-g2', externalId: 'rotator:01JROT' });
  });
});

describe('rotation machine: crash and resume', () => {
  const creating = () => run(fresh(), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 });

  it('reconciles a create whose outcome was not recorded instead of sending a second one', () => {
    expect(nextEffect(creating(), { resumed: true })).toEqual({ type: 'reconcile', attempt: 1, name: 'payments-bot-g2', externalId: 'rotator:01JROT' });
  });

  it('sends the same attempt again when the create never happened', () => {
    const r = run(creating(), { type: 'nothing-created' });
    expect(r.step).toBe('staged');
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'begin-create', attempt: 1 });
  });

  it('cleans an orphan (created, token lost) and retries under a new name', () => {
    let r = run(creating(), { type: 'orphan-found', credentialIds: ['us-orphan'] });
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'clean-orphan', credentialId: 'us-orphan' });
    r = run(r, { type: 'orphan-cleaned', credentialId: 'us-orphan' }, { type: 'create-begun', attempt: 2 });
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'create', attempt: 2, name: 'payments-bot-g2-2', externalId: 'rotator:01JROT:2' });
    expect(r.orphans).toEqual([{ credentialId: 'us-orphan', cleaned: true }]);
  });

  it('cleans every proven orphan once, even when a later lookup lists one again', () => {
    let r = run(creating(), { type: 'orphan-found', credentialIds: ['us-o1', 'us-o2'], note: 'both hold our key' });
    r = run(r, { type: 'orphan-cleaned', credentialId: 'us-o1' }, { type: 'orphan-cleaned', credentialId: 'us-o2' }, { type: 'create-begun', attempt: 2 });
    r = run(r, { type: 'orphan-found', credentialIds: ['us-o2', 'us-o3'] });
    expect(r.orphans).toEqual([{ credentialId: 'us-o1', cleaned: true }, { credentialId: 'us-o2', cleaned: true }, { credentialId: 'us-o3', cleaned: false }]);
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'clean-orphan', credentialId: 'us-o3' });
  });

  it('remembers when the first create attempt began (a credential created before it is not ours)', () => {
    let r = run(fresh(), { type: 'staged', pendingVersionId: 2 });
    r = applyEvent(r, { type: 'create-begun', attempt: 1 }, t0 + 5_000);
    expect(r.createBegunAt).toBe(t0 + 5_000);
    r = applyEvent(applyEvent(r, { type: 'name-taken' }, t0 + 6_000), { type: 'create-begun', attempt: 2 }, t0 + 9_000);
    expect(r).toMatchObject({ attempt: 2, createBegunAt: t0 + 5_000 });
  });

  it('moves to the next name when Dfns says the name is taken by something not ours', () => {
    const r = run(creating(), { type: 'name-taken' });
    expect(r).toMatchObject({ step: 'staged', attempt: 1, orphans: [] });
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'begin-create', attempt: 2 });
  });

  it('gives up after too many lost creates, rolling back', () => {
    let r = run(fresh(), { type: 'staged', pendingVersionId: 2 });
    for (let a = 1; a <= 5; a++) r = run(r, { type: 'create-begun', attempt: a }, { type: 'orphan-found', credentialIds: [`us-o${a}`] }, { type: 'orphan-cleaned', credentialId: `us-o${a}` });
    r = run(r, { type: 'create-begun', attempt: 6 });
    expect(r).toMatchObject({ step: 'rolling-back', error: { code: 'CREATE_ATTEMPTS_EXHAUSTED' } });
    expect(nextEffect(r, { resumed: true })).toEqual({ type: 'rollback' });
  });

  it.each([
    ['planned', 'stage'],
    ['created', 'verify'],
    ['verified', 'promote'],
    ['promoted', 'announce'],
    ['announced', 'schedule-retire'],
  ] as const)('resumes at %s with %s', (step, effect) => {
    expect(nextEffect({ ...fresh(), step }, { resumed: true }).type).toBe(effect);
  });
});

describe('rotation machine: failures', () => {
  const error = { code: 'DFNS_FORBIDDEN', message: 'createServiceAccount: forbidden', step: 'creating' as const };

  it('fails without rollback when nothing was staged', () => {
    expect(run(fresh(), { type: 'permanent-failure', error })).toMatchObject({ step: 'failed', error });
  });

  it('rolls back a permanent failure after staging, keeping the first error', () => {
    const r = run(fresh(), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 }, { type: 'permanent-failure', error });
    expect(r).toMatchObject({ step: 'rolling-back', error });
    const done = run(r, { type: 'rolled-back' });
    expect(done).toMatchObject({ step: 'rolled-back', pendingVersionId: null, error });
    expect(nextEffect(done, { resumed: true })).toEqual({ type: 'finished' });
  });

  it('never rolls back after promote', () => {
    const r = { ...fresh(), step: 'promoted' as const, promotedAt: t0 };
    expect(() => applyEvent(r, { type: 'permanent-failure', error }, t0)).toThrow(RotationTransitionError);
  });

  it('parks on a policy approval and reconciles when re-triggered', () => {
    let r = run(fresh(), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 }, { type: 'parked', approvalId: 'ap-1' });
    expect(nextEffect(r, { resumed: true })).toMatchObject({ type: 'wait' });
    r = run(r, { type: 'resumed' });
    expect(nextEffect(r, { resumed: true }).type).toBe('reconcile');
  });

  it('falls back from rekey to replace reusing the staged key', () => {
    const r = run(fresh('rekey'), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 }, { type: 'switched-to-replace' });
    expect(r).toMatchObject({ strategy: 'replace', step: 'staged', pendingVersionId: 2, attempt: 0 });
    expect(nextEffect(r, { resumed: false })).toEqual({ type: 'begin-create', attempt: 1 });
  });

  it('rejects events that make no sense at a step', () => {
    expect(() => applyEvent(fresh(), { type: 'verified' }, t0)).toThrow(/event verified is not valid at step planned/);
  });
});

describe('retire', () => {
  const promoted = () => run(fresh(), { type: 'staged', pendingVersionId: 2 }, { type: 'create-begun', attempt: 1 }, created, { type: 'verified' }, { type: 'promoted', at: t0 }, { type: 'announced' }, { type: 'retire-scheduled', retireAt: t0 + 24 * HOUR });

  it('refuses to retire anything before promote is recorded', () => {
    for (const step of ['planned', 'staged', 'creating', 'created', 'verified', 'rolling-back', 'parked'] as const) {
      expect(nextRetireEffect({ ...fresh(), step }, t0 + 1000 * HOUR, 0)).toMatchObject({ type: 'wait', why: expect.stringMatching(/not promoted/) });
    }
  });

  it('waits for the overlap window, deactivates, then archives after its delay', () => {
    const r = promoted();
    expect(nextRetireEffect(r, t0 + 23 * HOUR, 168 * HOUR).type).toBe('wait');
    expect(nextRetireEffect(r, t0 + 24 * HOUR, 168 * HOUR).type).toBe('deactivate-old');
    const d = applyEvent(r, { type: 'deactivated', at: t0 + 24 * HOUR }, t0);
    expect(nextRetireEffect(d, t0 + 100 * HOUR, 168 * HOUR).type).toBe('wait');
    expect(nextRetireEffect(d, t0 + 192 * HOUR, 168 * HOUR).type).toBe('archive-old');
    expect(applyEvent(d, { type: 'archived' }, t0).step).toBe('done');
  });
});

describe('names', () => {
  it.each([
    ['payments-bot', 1, 'payments-bot-g2'],
    ['payments-bot-g2', 1, 'payments-bot-g3'],
    ['payments-bot-g9-3', 2, 'payments-bot-g10-2'],
    ['a-gb', 1, 'a-gb-g2'],
  ])('%s attempt %d → %s', (old, attempt, expected) => {
    expect(replacementName(old, attempt)).toBe(expected);
  });
  it('puts the attempt in the external id', () => {
    expect([externalIdFor('R', 1), externalIdFor('R', 3)]).toEqual(['rotator:R', 'rotator:R:3']);
  });
});
