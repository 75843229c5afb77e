import { describe, expect, it } from 'vitest';
import { findUnfinishedRotations } from '../../src/jobs/pending-adoption.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import type { SecretSummary, Stage } from '../../src/secrets/types.js';

/**
 * Issue 8: what the scan and the daemon's start pick up because the store says a rotation is under
 * way: a pending version whose record Redis lost, a live rotation nothing may be driving, and a
 * promoted rotation whose record (and retire job) was lost before the old credential was retired.
 */
function summary(name: string, versions: { stages: Stage[]; rotationId?: string; credentialId?: string }[]): SecretSummary {
  return {
    name,
    revision: 1,
    versions: versions.map((v, i) => ({ versionId: i + 1, stages: v.stages, kind: 'service-account', name, metadata: { createdAt: 1, ...(v.rotationId ? { rotationId: v.rotationId } : {}), credentialId: v.credentialId ?? `us-${name}-${i}` } })),
  };
}

const records = new Map<string, Pick<RotationRecord, 'step'>>([
  ['R-live', { step: 'creating' }],
  ['R-parked', { step: 'parked' }],
  ['R-failed', { step: 'failed' }],
  ['R-promoted', { step: 'retire-scheduled' }],
]);
const rotations = { get: async (id: string) => (records.get(id) as RotationRecord | undefined) ?? null };

describe('findUnfinishedRotations', () => {
  it.each<[string, SecretSummary, { why: string; rotationId: string } | null]>([
    ['steady: current only', summary('a', [{ stages: ['current'] }]), null],
    ['pending, record lost', summary('b', [{ stages: ['current'] }, { stages: ['pending'], rotationId: 'R-gone' }]), { why: 'orphaned', rotationId: 'R-gone' }],
    ['pending, rotation alive', summary('c', [{ stages: ['current'] }, { stages: ['pending'], rotationId: 'R-live' }]), { why: 'unfinished', rotationId: 'R-live' }],
    ['pending, parked for approval (a person is on it)', summary('d', [{ stages: ['current'] }, { stages: ['pending'], rotationId: 'R-parked' }]), null],
    ['pending of a finished rotation (staging cleans it)', summary('e', [{ stages: ['current'] }, { stages: ['pending'], rotationId: 'R-failed' }]), null],
    ['pending without a rotation id (not ours to adopt)', summary('f', [{ stages: ['current'] }, { stages: ['pending'] }]), null],
    ['promoted, record lost, old one not retired', summary('g', [{ stages: ['previous'] }, { stages: ['current'], rotationId: 'R-lost' }]), { why: 'unretired', rotationId: 'R-lost' }],
    ['promoted, record alive (its retire job will run)', summary('h', [{ stages: ['previous'] }, { stages: ['current'], rotationId: 'R-promoted' }]), null],
    ['adopted by hand: current without a rotation id', summary('i', [{ stages: ['previous'] }, { stages: ['current'] }]), null],
  ])('%s', async (_, s, expected) => {
    const found = await findUnfinishedRotations([s], rotations);
    expect(found).toEqual(expected ? [{ secretName: s.name, ...expected }] : []);
  });
});
