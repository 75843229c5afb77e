import { describe, expect, it } from 'vitest';
import {
  accessTokenSchema,
  createdPatSchema,
  createdServiceAccountSchema,
  listOf,
  parseAnswer,
  serviceAccountSchema,
  toServiceAccountRecord,
} from '../../src/dfns/answers.js';
import { DfnsInvalidAnswerError } from '../../src/dfns/errors.js';

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
