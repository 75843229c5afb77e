import { describe, expect, it } from 'vitest';
import { contentToken, desiredLabels, headToken, nextLabelMove, MANIFEST_FORMAT, type Manifest } from '../../src/secrets/aws/aws-record.js';
import { makeVersion } from '../fixtures/managed-secret.js';

const manifest = (versions: { versionId: number; aws: string; stages: ('current' | 'previous' | 'pending')[] }[]): Manifest => ({
  format: MANIFEST_FORMAT,
  revision: 1,
  versions: versions.map((v) => ({ versionId: v.versionId, awsVersionId: v.aws, stages: v.stages, metadata: { createdAt: 1 }, kind: 'service-account', name: 'x' })),
});

describe('the next AWS label move towards a committed record', () => {
  it.each([
    {
      what: 'a promote moves AWSCURRENT first (AWS drags AWSPREVIOUS along)',
      observed: { A: ['AWSCURRENT', 'dfns-rotator-v1'], P: ['AWSPENDING', 'dfns-rotator-v2'], H: ['dfns-rotator-head'] },
      record: [{ versionId: 1, aws: 'A', stages: ['previous'] }, { versionId: 2, aws: 'P', stages: ['current'] }],
      move: { label: 'AWSCURRENT', moveTo: 'P', removeFrom: 'A' },
    },
    {
      what: 'then AWSPENDING leaves the promoted version',
      observed: { A: ['AWSPREVIOUS', 'dfns-rotator-v1'], P: ['AWSPENDING', 'AWSCURRENT', 'dfns-rotator-v2'] },
      record: [{ versionId: 1, aws: 'A', stages: ['previous'] }, { versionId: 2, aws: 'P', stages: ['current'] }],
      move: { label: 'AWSPENDING', removeFrom: 'P' },
    },
    {
      what: 'a staged version gets AWSPENDING, attached where it was on no version',
      observed: { A: ['AWSCURRENT', 'dfns-rotator-v1'], N: ['dfns-rotator-write'] },
      record: [{ versionId: 1, aws: 'A', stages: ['current'] }, { versionId: 2, aws: 'N', stages: ['pending'] }],
      move: { label: 'AWSPENDING', moveTo: 'N' },
    },
    {
      what: 'a version label follows the version to its new value',
      observed: { A: ['AWSCURRENT', 'dfns-rotator-v1'], P1: ['dfns-rotator-v2'], P2: ['AWSPENDING'] },
      record: [{ versionId: 1, aws: 'A', stages: ['current'] }, { versionId: 2, aws: 'P2', stages: ['pending'] }],
      move: { label: 'dfns-rotator-v2', moveTo: 'P2', removeFrom: 'P1' },
    },
    {
      what: 'a dropped version loses AWSPREVIOUS and its version label',
      observed: { A: ['AWSPREVIOUS', 'dfns-rotator-v1'], B: ['AWSCURRENT', 'dfns-rotator-v2'] },
      record: [{ versionId: 2, aws: 'B', stages: ['current'] }],
      move: { label: 'AWSPREVIOUS', removeFrom: 'A' },
    },
    {
      what: "labels that are not dfns-rotator's are never touched, and nothing is left to do",
      observed: { B: ['AWSCURRENT', 'dfns-rotator-v2', 'their-label'], H: ['dfns-rotator-head', 'dfns-rotator-write'] },
      record: [{ versionId: 2, aws: 'B', stages: ['current'] }],
      move: null,
    },
  ] as const)('$what', ({ observed, record, move }) => {
    const o = Object.fromEntries(Object.entries(observed).map(([k, v]) => [k, [...v]]));
    expect(nextLabelMove(o, desiredLabels(manifest(record.map((r) => ({ ...r, stages: [...r.stages] }))))), JSON.stringify(o)).toEqual(move);
  });

  it('never removes AWSCURRENT, which AWS refuses', () => {
    expect(nextLabelMove({ A: ['AWSCURRENT'] }, desiredLabels(manifest([{ versionId: 1, aws: 'B', stages: ['pending'] }])))).toEqual({ label: 'AWSPENDING', moveTo: 'B' });
    expect(nextLabelMove({ A: ['AWSCURRENT'], B: ['AWSPENDING', 'dfns-rotator-v1'] }, desiredLabels(manifest([{ versionId: 1, aws: 'B', stages: ['pending'] }])))).toBeNull();
  });
});

describe('ClientRequestTokens', () => {
  it('are 32 to 64 characters, name the rotation and version, and change with the value', () => {
    const v = makeVersion(3, ['pending'], {}, { rotationId: '01JXYZROTATIONID0000000000' });
    const a = contentToken(v, 'text-a');
    expect(a).toMatch(/^dfr-01JXYZROTATIONID0000000000-v3-[0-9a-f]{24}$/);
    expect(contentToken(v, 'text-a')).toBe(a);
    expect(contentToken(v, 'text-b')).not.toBe(a);
    for (const t of [a, contentToken(makeVersion(1, ['current']), 'x'), contentToken(makeVersion(123456789, [], {}, { rotationId: 'r'.repeat(80) }), 'x'), headToken(99999, 'x')]) {
      expect(t.length, t).toBeGreaterThanOrEqual(32);
      expect(t.length, t).toBeLessThanOrEqual(64);
    }
  });
});
