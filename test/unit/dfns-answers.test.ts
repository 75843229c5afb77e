import { describe, expect, it } from 'vitest';
import {
  accessTokenSchema,
  createdPatSchema,
  createdServiceAccountSchema,
  listOf,
  parseAnswer,
  parseListAnswer,
  rawServiceAccountId,
  rawTokenId,
  serviceAccountSchema,
  toAccessTokenRecord,
  toServiceAccountRecord,
} from '../../src/dfns/answers.js';
import { resolveCreatedCredId } from '../../src/dfns/created-cred-id.js';
import { DfnsInvalidAnswerError } from '../../src/dfns/errors.js';
import { silentLogger } from '../../src/logger.js';

const SECRET = 'eyJhbGciOiJFZERTQSJ9.c2VjcmV0LXRva2Vu.c2ln';

function pat(overrides: Record<string, unknown> = {}) {
  return {
    tokenId: 'to-1',
    kind: 'Pat',
    name: 'ci',
    isActive: true,
    dateCreated: '2025-01-01T00:00:00.000Z',
    credId: 'cred-1',
    linkedUserId: 'us-1',
    linkedAppId: 'ap-1',
    orgId: 'or-1',
    publicKey: 'SHA256:abc',
    permissionAssignments: [{ permissionId: 'pm-1', permissionName: 'admin', assignmentId: 'as-1', operations: ['x'] }],
    ...overrides,
  };
}

function sa(overrides: Record<string, unknown> = {}, token: Record<string, unknown> = {}) {
  return {
    userInfo: {
      userId: 'us-9',
      username: 'sa-9',
      name: 'payments',
      kind: 'CustomerEmployee',
      orgId: 'or-1',
      isActive: true,
      isServiceAccount: true,
      permissionAssignments: [],
    },
    accessTokens: [pat({ kind: 'ServiceAccount', ...token })],
    ...overrides,
  };
}

function failure(fn: () => unknown): DfnsInvalidAnswerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DfnsInvalidAnswerError);
    return err as DfnsInvalidAnswerError;
  }
  throw new Error('expected a DfnsInvalidAnswerError');
}

describe('answer schemas', () => {
  it('accept documented answers with unknown extra fields, and map to port records', () => {
    const record = toServiceAccountRecord(parseAnswer('getServiceAccount', serviceAccountSchema, { ...sa(), brandNewField: { x: 1 } }));
    expect(record).toEqual({
      id: 'us-9',
      name: 'payments',
      username: 'sa-9',
      orgId: 'or-1',
      isActive: true,
      permissionAssignments: [],
      accessTokens: [
        {
          tokenId: 'to-1',
          kind: 'ServiceAccount',
          name: 'ci',
          isActive: true,
          dateCreated: '2025-01-01T00:00:00.000Z',
          credId: 'cred-1',
          linkedUserId: 'us-1',
          orgId: 'or-1',
          publicKey: 'SHA256:abc',
          permissionAssignments: [{ permissionId: 'pm-1', permissionName: 'admin', assignmentId: 'as-1' }],
        },
      ],
    });
  });

  it('read an externalId when Dfns includes one (UNCONFIRMED), on the SA or its userInfo', () => {
    expect(toServiceAccountRecord(parseAnswer('x', serviceAccountSchema, sa({ externalId: 'rotator:1' }))).externalId).toBe('rotator:1');
    const inUserInfo = sa();
    (inUserInfo.userInfo as Record<string, unknown>).externalId = 'rotator:2';
    expect(toServiceAccountRecord(parseAnswer('x', serviceAccountSchema, inUserInfo)).externalId).toBe('rotator:2');
    expect(toServiceAccountRecord(parseAnswer('x', serviceAccountSchema, sa({ externalId: null }))).externalId).toBeUndefined();
  });

  it('name the operation and every bad field, with its path', () => {
    const answer = { items: [pat(), pat({ isActive: 'yes', tokenId: 42 }), pat({ permissionAssignments: [{}] })] };
    const err = failure(() => parseAnswer('listPersonalAccessTokens', listOf(accessTokenSchema), answer));
    expect(err.operation).toBe('listPersonalAccessTokens');
    expect(err.code).toBe('DFNS_INVALID_ANSWER');
    expect(err.message).toMatch(/^listPersonalAccessTokens: answer does not match/);
    expect(err.message).toContain('items[1].tokenId: expected string');
    expect(err.message).toContain('items[1].isActive: expected boolean');
    expect(err.message).toContain('items[2].permissionAssignments[0].permissionId: expected string');
    expect(err.message).not.toContain('yes');
    expect(err.message).not.toContain('42');
  });

  it('report a missing list and a non-object answer', () => {
    expect(failure(() => parseAnswer('listServiceAccounts', listOf(serviceAccountSchema), {})).message).toContain('items: expected array');
    expect(failure(() => parseAnswer('listServiceAccounts', listOf(serviceAccountSchema), 'oops')).message).toContain('(answer): expected object');
  });

  it('never quote a value, even a token in a wrongly typed field', () => {
    const err = failure(() => parseAnswer('createPersonalAccessToken', createdPatSchema, pat({ accessToken: SECRET, name: SECRET.length, credId: [SECRET] })));
    expect(err.message).toContain('name: expected string');
    expect(err.message).toContain('credId: expected string');
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('c2VjcmV0');
  });

  it('require the one-time token in create answers', () => {
    expect(failure(() => parseAnswer('createPersonalAccessToken', createdPatSchema, pat())).message).toContain('accessToken: expected string');
    expect(failure(() => parseAnswer('createServiceAccount', createdServiceAccountSchema, sa())).message).toContain('no access token in the create answer');
    expect(parseAnswer('createServiceAccount', createdServiceAccountSchema, sa({}, { accessToken: SECRET })).accessTokens[0]?.accessToken).toBe(SECRET);
  });
});

describe('tolerant answers (issue 9)', () => {
  it('require only ids, isActive and dateCreated; fall back for the rest', () => {
    const bare = { userInfo: { userId: 'us-1', isActive: true }, accessTokens: [{ tokenId: 'to-1', isActive: true, dateCreated: '2025-01-01T00:00:00.000Z' }] };
    expect(toServiceAccountRecord(parseAnswer('x', serviceAccountSchema, bare))).toEqual({
      id: 'us-1', name: 'us-1', username: 'us-1', orgId: null, isActive: true, permissionAssignments: null,
      accessTokens: [{ tokenId: 'to-1', kind: null, name: 'to-1', isActive: true, dateCreated: '2025-01-01T00:00:00.000Z', credId: '', linkedUserId: null, orgId: null, publicKey: '', permissionAssignments: null }],
    });
    const documented = sa();
    delete (documented.userInfo as Record<string, unknown>).name;
    delete (documented.userInfo as Record<string, unknown>).orgId;
    (documented.userInfo as Record<string, unknown>).tenantId = 'or-tenant';
    expect(toServiceAccountRecord(parseAnswer('x', serviceAccountSchema, documented))).toMatchObject({ name: 'sa-9', username: 'sa-9', orgId: 'or-tenant' });
    expect(toAccessTokenRecord(parseAnswer('x', accessTokenSchema, pat({ kind: undefined, orgId: undefined, tenantId: 'or-t', credId: '' })))).toMatchObject({ kind: null, orgId: 'or-t', credId: '' });
    for (const missing of ['isActive', 'dateCreated', 'tokenId']) {
      const answer: Record<string, unknown> = pat();
      delete answer[missing];
      expect(failure(() => parseAnswer('x', accessTokenSchema, answer)).message).toContain(`${missing}: expected`);
    }
  });

  it('read a list item by item: a bad item is reported by index and safe id, the others kept', () => {
    const answer = { items: [sa(), { userInfo: { userId: 'us-bad', isActive: 'yes' }, accessTokens: [] }, { userInfo: { userId: 'not an id; drop table', isActive: 1 } }, 7] };
    const listed = parseListAnswer('listServiceAccounts', serviceAccountSchema, toServiceAccountRecord, rawServiceAccountId, answer);
    expect(listed.items.map((i) => i.id)).toEqual(['us-9']);
    expect(listed.unreadable).toEqual([
      { index: 1, id: 'us-bad', problem: 'userInfo.isActive: expected boolean' },
      { index: 2, id: null, problem: 'userInfo.isActive: expected boolean; accessTokens: expected array' },
      { index: 3, id: null, problem: '(answer): expected object' },
    ]);
    expect(JSON.stringify(listed.unreadable)).not.toContain('yes');
    const pats = parseListAnswer('listPersonalAccessTokens', accessTokenSchema, toAccessTokenRecord, rawTokenId, { items: [pat({ dateCreated: null })] });
    expect(pats).toEqual({ items: [], unreadable: [{ index: 0, id: 'to-1', problem: 'dateCreated: expected string' }] });
    expect(failure(() => parseListAnswer('x', accessTokenSchema, toAccessTokenRecord, rawTokenId, { items: 'no' })).message).toContain('items: expected array');
  });
});

describe('the credId of a create answer that has none', () => {
  const base = { operation: 'createServiceAccount', recordKind: 'serviceAccount' as const, recordId: 'us-new', logger: silentLogger };
  it('keeps a credId the answer gives, without asking', async () => {
    const asked: string[] = [];
    const credId = await resolveCreatedCredId({ ...base, answered: 'c-1', offered: async () => { asked.push('offered'); return []; }, lookUp: async () => { asked.push('get'); return ''; } });
    expect([credId, asked]).toEqual(['c-1', []]);
  });
  it('takes the one id a challenge with the new token offers, else the GET record', async () => {
    expect(await resolveCreatedCredId({ ...base, answered: '', offered: async () => ['c-2'], lookUp: async () => 'never' })).toBe('c-2');
    expect(await resolveCreatedCredId({ ...base, answered: '', offered: async () => ['c-a', 'c-b'], lookUp: async () => 'c-3' })).toBe('c-3');
    expect(await resolveCreatedCredId({ ...base, answered: '', offered: async () => { throw Object.assign(new Error('x'), { code: 'DFNS_FORBIDDEN' }); }, lookUp: async () => 'c-4' })).toBe('c-4');
  });
  it('reports an orphan to clean up when nothing tells, never an empty credId', async () => {
    const err = await resolveCreatedCredId({ ...base, answered: '', offered: async () => [], lookUp: async () => '' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DFNS_CREATE_LOST', recordId: 'us-new', recordKind: 'serviceAccount' });
    expect((err as Error).message).toContain('offers 0 Key credentials; a GET of the new record shows no credId either');
  });
});
