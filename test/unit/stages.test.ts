import { describe, expect, it } from 'vitest';
import { SecretStageError } from '../../src/secrets/errors.js';
import {
  addCurrent,
  addPending,
  discardPending,
  dropVersion,
  promotePending,
  UNLABELLED_VERSIONS_KEPT,
  updatePending,
  versionById,
  versionWithStage,
} from '../../src/secrets/stages.js';
import type { SecretRecord, SecretVersion, Stage } from '../../src/secrets/types.js';
import { makeManagedSecret, makeVersion } from '../fixtures/managed-secret.js';

const NAME = 'payments/api-bot';

/** A record from `[versionId, stages]` pairs, deep-frozen so any mutation of the input throws. */
function rec(...versions: [number, Stage[], { accessToken?: string | null; credentialId?: string | null }?][]): SecretRecord {
  return deepFreeze({ name: NAME, revision: 7, versions: versions.map(([id, stages, value]) => makeVersion(id, stages, value ?? {})) });
}

function labels(versions: readonly SecretVersion[]): [number, Stage[]][] {
  return versions.map((v) => [v.versionId, v.stages]);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('versionWithStage / versionById', () => {
  const r = rec([1, []], [2, ['previous']], [3, ['current']], [4, ['pending']]);
  it.each([
    ['pending', 4],
    ['current', 3],
    ['previous', 2],
  ] as const)('finds the %s version', (stage, id) => {
    expect(versionWithStage(r.versions, stage)?.versionId).toBe(id);
  });
  it('returns undefined for an unused label or id', () => {
    expect(versionWithStage(rec([1, ['current']]).versions, 'pending')).toBeUndefined();
    expect(versionById(r.versions, 9)).toBeUndefined();
    expect(versionById(r.versions, 2)?.stages).toEqual(['previous']);
  });
});

describe('stage moves', () => {
  const value = makeManagedSecret({ accessToken: 'new-token', credentialId: 'us-new' });
  const meta = { createdAt: 1000, rotationId: 'rot-9' };

  it.each<{ title: string; run: () => SecretVersion[]; expected: [number, Stage[]][] }>([
    { title: 'addPending on a new secret makes version 1 pending', run: () => addPending(null, NAME, value, meta).versions, expected: [[1, ['pending']]] },
    {
      title: 'addPending takes the next id after the highest, leaving labels alone',
      run: () => addPending(rec([3, ['previous']], [5, ['current']]), NAME, value, meta).versions,
      expected: [[3, ['previous']], [5, ['current']], [6, ['pending']]],
    },
    { title: 'addCurrent on a new secret makes version 1 current', run: () => addCurrent(null, NAME, value, meta).versions, expected: [[1, ['current']]] },
    {
      title: 'addCurrent shifts current to previous and previous to unlabelled',
      run: () => addCurrent(rec([1, ['previous']], [2, ['current']]), NAME, value, meta).versions,
      expected: [[1, []], [2, ['previous']], [3, ['current']]],
    },
    {
      title: 'promotePending shifts pending to current, current to previous, previous to unlabelled',
      run: () => promotePending(rec([1, ['previous']], [2, ['current']], [3, ['pending']]), 3, 5000),
      expected: [[1, []], [2, ['previous']], [3, ['current']]],
    },
    {
      title: `promotePending keeps only the ${UNLABELLED_VERSIONS_KEPT} newest unlabelled versions`,
      run: () => promotePending(rec([1, []], [2, []], [3, ['previous']], [4, ['current']], [5, ['pending']]), 5, 5000),
      expected: [[2, []], [3, []], [4, ['previous']], [5, ['current']]],
    },
    {
      title: 'promotePending of the first version of a secret (no current yet)',
      run: () => promotePending(rec([1, ['pending']]), 1, 5000),
      expected: [[1, ['current']]],
    },
    {
      title: 'promotePending is idempotent: a version already current is left as is',
      run: () => promotePending(rec([2, ['previous']], [3, ['current']]), 3, 9999),
      expected: [[2, ['previous']], [3, ['current']]],
    },
    { title: 'discardPending removes the pending version', run: () => discardPending(rec([1, ['current']], [2, ['pending']]), 2), expected: [[1, ['current']]] },
    { title: 'discardPending is idempotent: a missing version is no error', run: () => discardPending(rec([1, ['current']]), 2), expected: [[1, ['current']]] },
    { title: 'dropVersion removes a previous version', run: () => dropVersion(rec([1, ['previous']], [2, ['current']]), 1), expected: [[2, ['current']]] },
    { title: 'dropVersion removes an unlabelled version', run: () => dropVersion(rec([1, []], [2, ['current']]), 1), expected: [[2, ['current']]] },
    { title: 'dropVersion is idempotent: a missing version is no error', run: () => dropVersion(rec([2, ['current']]), 1), expected: [[2, ['current']]] },
  ])('$title', ({ run, expected }) => {
    expect(labels(run())).toEqual(expected);
  });

  it.each<{ title: string; run: () => unknown; message: RegExp }>([
    {
      title: 'addPending refuses a second pending version (it may hold the only copy of a token)',
      run: () => addPending(rec([1, ['current']], [2, ['pending']]), NAME, value, meta),
      message: /version 2 is already pending \(rotation unknown\)/,
    },
    { title: 'addCurrent refuses while a rotation is pending', run: () => addCurrent(rec([1, ['pending']]), NAME, value, meta), message: /a rotation is pending/ },
    { title: 'updatePending refuses the current version', run: () => updatePending(rec([1, ['current']]), 1, { value: { accessToken: 'x' } }), message: /version 1 is not pending/ },
    { title: 'updatePending refuses a missing version', run: () => updatePending(rec([1, ['current']]), 4, {}), message: /version 4 is not pending/ },
    {
      title: 'promotePending refuses a version without a token',
      run: () => promotePending(rec([1, ['current']], [2, ['pending'], { accessToken: null }]), 2, 1),
      message: /version 2: it has no access token or credential id yet/,
    },
    {
      title: 'promotePending refuses a version without a credential id',
      run: () => promotePending(rec([1, ['current']], [2, ['pending'], { credentialId: null }]), 2, 1),
      message: /no access token or credential id/,
    },
    { title: 'promotePending refuses a previous version', run: () => promotePending(rec([1, ['previous']], [2, ['current']]), 1, 1), message: /cannot promote version 1: it is not pending/ },
    { title: 'promotePending refuses a missing version', run: () => promotePending(rec([1, ['current']]), 3, 1), message: /cannot promote version 3/ },
    { title: 'discardPending refuses the current version', run: () => discardPending(rec([1, ['current']]), 1), message: /cannot discard version 1: it is current, not pending/ },
    { title: 'discardPending refuses an unlabelled version', run: () => discardPending(rec([1, []], [2, ['current']]), 1), message: /it is unlabelled, not pending/ },
    { title: 'dropVersion refuses the current version', run: () => dropVersion(rec([1, ['current']]), 1), message: /refusing to drop version 1: it is current/ },
    { title: 'dropVersion refuses the pending version', run: () => dropVersion(rec([1, ['current']], [2, ['pending']]), 2), message: /refusing to drop version 2: it is pending/ },
  ])('$title', ({ run, message }) => {
    let thrown: unknown;
    try {
      run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SecretStageError);
    expect((thrown as SecretStageError).code).toBe('SECRET_STAGE');
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toContain(`secret "${NAME}"`);
  });

  it('names the rotation that owns a pending version when refusing another', () => {
    const r = deepFreeze({ name: NAME, revision: 1, versions: [makeVersion(2, ['pending'], {}, { rotationId: 'rot-A' })] });
    expect(() => addPending(r, NAME, value, meta)).toThrow(/rotation rot-A/);
  });
});

describe('what the moves carry', () => {
  it('addPending returns the new version id and stores value and metadata as given', () => {
    const value = makeManagedSecret({ accessToken: null, credentialId: null });
    const { versions, versionId } = addPending(rec([1, ['current']]), NAME, value, { createdAt: 42, rotationId: 'r' });
    expect(versionId).toBe(2);
    expect(versionById(versions, 2)).toEqual({ versionId: 2, stages: ['pending'], metadata: { createdAt: 42, rotationId: 'r' }, value });
  });

  it('addCurrent stamps rotatedAt from createdAt unless given', () => {
    expect(addCurrent(null, NAME, makeManagedSecret(), { createdAt: 42 }).versions[0]?.metadata.rotatedAt).toBe(42);
    expect(addCurrent(null, NAME, makeManagedSecret(), { createdAt: 42, rotatedAt: 7 }).versions[0]?.metadata.rotatedAt).toBe(7);
  });

  it('updatePending patches only the pending version, merging value and metadata', () => {
    const r = rec([1, ['current']], [2, ['pending'], { accessToken: null, credentialId: null }]);
    const out = updatePending(r, 2, { value: { accessToken: 'tok', credentialId: 'us-2' }, metadata: { expiresAt: 99 } });
    expect(versionById(out, 2)?.value).toMatchObject({ accessToken: 'tok', credentialId: 'us-2', privateKeyPem: r.versions[1]!.value.privateKeyPem });
    expect(versionById(out, 2)?.metadata).toEqual({ createdAt: r.versions[1]!.metadata.createdAt, expiresAt: 99 });
    expect(versionById(out, 1)).toEqual(r.versions[0]);
  });

  it('promotePending stamps rotatedAt on the promoted version only', () => {
    const out = promotePending(rec([1, ['current']], [2, ['pending']]), 2, 5000);
    expect(versionById(out, 2)?.metadata.rotatedAt).toBe(5000);
    expect(versionById(out, 1)?.metadata.rotatedAt).toBeUndefined();
  });

  it('never returns arrays or objects shared with the input', () => {
    const r = rec([1, ['current']], [2, ['pending']]);
    const out = updatePending(r, 2, {});
    expect(out[0]).not.toBe(r.versions[0]);
    expect(out[0]?.stages).not.toBe(r.versions[0]?.stages);
    expect(out[0]?.value).not.toBe(r.versions[0]?.value);
    out[0]!.stages.push('previous');
    expect(r.versions[0]?.stages).toEqual(['current']);
  });
});
