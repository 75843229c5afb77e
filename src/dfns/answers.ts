import { z } from 'zod';
import { DfnsInvalidAnswerError } from './errors.js';
import type {
  AccessTokenRecord,
  CredentialRecord,
  PermissionAssignment,
  ServiceAccountRecord,
} from './port.js';

/**
 * Schemas of the Dfns answers the port uses (shapes from `@dfns/sdk` 0.8.21
 * `generated/auth/types.d.ts`). Only the fields the worker reads are required; unknown extra
 * fields are allowed (and dropped), so Dfns adding fields never breaks a call. A mismatch fails
 * that call with DfnsInvalidAnswerError naming the fields, never their values.
 */

const permissionAssignment = z.object({
  permissionId: z.string(),
  permissionName: z.string(),
  assignmentId: z.string(),
});

/** `externalId` on list/get answers is UNCONFIRMED (not in SDK types): read it when it is a string. */
const optionalExternalId = z.string().nullish();

export const accessTokenSchema = z.object({
  tokenId: z.string().min(1),
  kind: z.string(),
  name: z.string(),
  isActive: z.boolean(),
  dateCreated: z.string(),
  credId: z.string(),
  linkedUserId: z.string(),
  orgId: z.string(),
  publicKey: z.string(),
  permissionAssignments: z.array(permissionAssignment),
  externalId: optionalExternalId,
  accessToken: z.string().optional(),
});

export const serviceAccountSchema = z.object({
  userInfo: z.object({
    userId: z.string().min(1),
    username: z.string(),
    name: z.string(),
    orgId: z.string(),
    isActive: z.boolean(),
    permissionAssignments: z.array(permissionAssignment),
    externalId: optionalExternalId,
  }),
  accessTokens: z.array(accessTokenSchema),
  externalId: optionalExternalId,
});

export const credentialSchema = z.object({
  credentialUuid: z.string().min(1),
  credentialId: z.string(),
  kind: z.string(),
  name: z.string(),
  isActive: z.boolean(),
  dateCreated: z.string(),
  publicKey: z.string(),
});

export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

/** A create answer: the record plus the token Dfns shows once (`accessTokens[].accessToken` for an SA). */
export const createdServiceAccountSchema = serviceAccountSchema.refine(
  (sa) => sa.accessTokens.some((t) => typeof t.accessToken === 'string' && t.accessToken.length > 0),
  { message: 'no access token in the create answer', path: ['accessTokens', 'accessToken'] },
);

export const createdPatSchema = accessTokenSchema.extend({ accessToken: z.string().min(1) });

export const keyCredentialChallengeSchema = z.object({
  kind: z.literal('Key'),
  challenge: z.string().min(1),
  challengeIdentifier: z.string().min(1),
});

export const userActionChallengeSchema = z.object({
  challenge: z.string().min(1),
  challengeIdentifier: z.string().min(1),
  allowCredentials: z.object({ key: z.array(z.object({ id: z.string() })) }),
});

export const userActionSchema = z.object({ userAction: z.string().min(1) });

export const loginSchema = z.object({ token: z.string().min(1) });

/** `{ message }` per SDK types; any object is accepted since nothing is read from it. */
export const messageSchema = z.object({});

/** Parses an answer or throws DfnsInvalidAnswerError naming the operation and the bad fields. */
export function parseAnswer<T extends z.ZodType>(operation: string, schema: T, raw: unknown): z.output<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new DfnsInvalidAnswerError(`answer does not match the documented shape: ${describeIssues(result.error.issues)}`, {
    operation,
  });
}

/** `userInfo.userId: expected string; items[2].isActive: expected boolean`, without any received value. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 8).map((issue) => {
    const where = formatPath(issue.path) || '(answer)';
    switch (issue.code) {
      case 'invalid_type':
        return `${where}: expected ${issue.expected}`;
      case 'invalid_value':
        return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join('|')}`;
      case 'too_small':
        return `${where}: too small or empty`;
      case 'custom':
        return `${where}: ${issue.message}`;
      default:
        return `${where}: ${issue.code}`;
    }
  });
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '';
  return shown.join('; ') + more;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

type AccessTokenAnswer = z.output<typeof accessTokenSchema>;
type ServiceAccountAnswer = z.output<typeof serviceAccountSchema>;
type CredentialAnswer = z.output<typeof credentialSchema>;

function toAssignments(list: readonly PermissionAssignment[]): PermissionAssignment[] {
  return list.map(({ permissionId, permissionName, assignmentId }) => ({ permissionId, permissionName, assignmentId }));
}

/** Maps to the port record. Drops `accessToken`: records never hold the token. */
export function toAccessTokenRecord(a: AccessTokenAnswer): AccessTokenRecord {
  const record: AccessTokenRecord = {
    tokenId: a.tokenId,
    kind: a.kind,
    name: a.name,
    isActive: a.isActive,
    dateCreated: a.dateCreated,
    credId: a.credId,
    linkedUserId: a.linkedUserId,
    orgId: a.orgId,
    publicKey: a.publicKey,
    permissionAssignments: toAssignments(a.permissionAssignments),
  };
  if (typeof a.externalId === 'string') record.externalId = a.externalId;
  return record;
}

export function toServiceAccountRecord(sa: ServiceAccountAnswer): ServiceAccountRecord {
  const record: ServiceAccountRecord = {
    id: sa.userInfo.userId,
    name: sa.userInfo.name,
    username: sa.userInfo.username,
    orgId: sa.userInfo.orgId,
    isActive: sa.userInfo.isActive,
    permissionAssignments: toAssignments(sa.userInfo.permissionAssignments),
    accessTokens: sa.accessTokens.map(toAccessTokenRecord),
  };
  const externalId = sa.externalId ?? sa.userInfo.externalId;
  if (typeof externalId === 'string') record.externalId = externalId;
  return record;
}

export function toCredentialRecord(c: CredentialAnswer): CredentialRecord {
  return {
    credentialUuid: c.credentialUuid,
    credentialId: c.credentialId,
    kind: c.kind,
    name: c.name,
    isActive: c.isActive,
    dateCreated: c.dateCreated,
    publicKey: c.publicKey,
  };
}

/** The token of a validated create answer (the schema guarantees one). */
export function createdServiceAccountToken(sa: ServiceAccountAnswer): string {
  const token = sa.accessTokens.find((t) => typeof t.accessToken === 'string' && t.accessToken.length > 0)?.accessToken;
  if (!token) throw new Error('unreachable: create answer validated without a token');
  return token;
}
