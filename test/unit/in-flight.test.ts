import { describe, expect, it } from 'vitest';
import { isInFlight, newRotation } from '../../src/jobs/core/rotation-machine.js';
import { rotationInFlight } from '../../src/jobs/state/rotation-store.js';
import type { RotationRecord, RotationStep } from '../../src/jobs/core/rotation-types.js';

const t0 = Date.parse('2026-05-01T00:00:00Z');

function at(step: RotationStep, rotationId = '01JROT'): RotationRecord {
  const r = newRotation({
    rotationId, secretName: 'payments', kind: 'service-account', strategy: 'replace', reason: 'expires in 10 days', requestedBy: 'scan',
    old: { credentialId: 'us-old', versionId: 1, credId: 'cr-old', name: 'payments-bot', permissionIds: ['pm-1'], daysValid: 90 }, policy: { strategy: 'replace', rekeyFallback: 'replace', keyAlgorithm: 'ed25519' },
    now: t0,
  });
  return { ...r, step };
}

describe('isInFlight: one notion of "a rotation of this secret is under way"', () => {
  const table: [RotationStep, boolean][] = [
    ['planned', true],
    ['staged', true],
    ['creating', true],
    ['created', true],
    ['verified', true],
    ['promoted', true],
    ['announced', true],
    ['rolling-back', true],
    // Waits for a person; a new request resumes it rather than starting another.
    ['parked', true],
    // The rotate job is over: the retire job takes it from here, and a new rotation may start.
    ['retire-scheduled', false],
    ['deactivated', false],
    ['done', false],
    ['rolled-back', false],
    ['failed', false],
  ];
  it.each(table)('%s → %s', (step, expected) => {
    expect(isInFlight(at(step))).toBe(expected);
  });
});

describe('rotationInFlight: the record the active pointer names, while it is in flight', () => {
  function rotations(pointer: string | null, records: RotationRecord[]) {
    return { active: async () => pointer, get: async (id: string) => records.find((r) => r.rotationId === id) ?? null };
  }

  it('answers the active rotation while it is under way', async () => {
    const r = at('creating', '01JA');
    expect(await rotationInFlight(rotations('01JA', [r]), 'payments')).toEqual(r);
  });

  it('answers a parked rotation (the scan skips it, the CLI resumes it)', async () => {
    expect((await rotationInFlight(rotations('01JA', [at('parked', '01JA')]), 'payments'))?.step).toBe('parked');
  });

  it('answers null with no pointer, a pointer to an expired record, or one whose rotate job is over', async () => {
    expect(await rotationInFlight(rotations(null, [at('creating', '01JA')]), 'payments')).toBeNull();
    expect(await rotationInFlight(rotations('01JGONE', [at('creating', '01JA')]), 'payments')).toBeNull();
    expect(await rotationInFlight(rotations('01JA', [at('retire-scheduled', '01JA')]), 'payments')).toBeNull();
    expect(await rotationInFlight(rotations('01JA', [at('failed', '01JA')]), 'payments')).toBeNull();
  });
});
