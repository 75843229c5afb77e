import { z } from 'zod';
import { DfnsInvalidAnswerError } from './errors.js';
import type {
  AccessTokenRecord,
  CredentialRecord,
  ListAnswer,
  PermissionAssignment,
  ServiceAccountRecord,
  UnreadableItem,
} from './port.js';

/**
 * Schemas of the Dfns answers the port uses. Dfns documents its answers more than one way (SDK
 * 0.8.x types; the GitBook examples, whose Create Service Account shows `userInfo` without `name`
 * and a token with `credId: ""`, `publicKey: ""`, `kind: "CustomerEmployee"`; the current
 * reference, whose items carry `tenantId` and may lack `kind`: dfns-api.md §3 and §9, and the
 * answers in test/fixtures/dfns/). So only what the worker cannot do without is required: ids,
 * `isActive`, `dateCreated`, and the token of a create answer. Every other field is optional
 * with a fallback decided here (`toAccessTokenRecord`, `toServiceAccountRecord`). Unknown extra
 * fields are allowed (and dropped). A mismatch fails that call with DfnsInvalidAnswerError naming
 * the fields, never their values; a list answer is read item by item (`parseListAnswer`).
 */

const permissionAssignment = z.object({
  permissionId: z.string().min(1),
  permissionName: z.string().optional(),
  assignmentId: z.string().optional(),
});

/** `externalId` on list/get answers is UNCONFIRMED (not in SDK types): read it when it is a string. */
const optionalExternalId = z.string().nullish();
/** Present, but possibly empty (`""` in the documented create examples): the mapping decides what empty means. */
const optionalString = z.string().nullish();

export const accessTokenSchema = z.object({
  tokenId: z.string().min(1),
  isActive: z.boolean(),
  dateCreated: z.string().min(1),
  kind: optionalString,
  name: optionalString,
  credId: optionalString,
  linkedUserId: optionalString,
  orgId: optionalString,
  tenantId: optionalString,
  publicKey: optionalString,
  permissionAssignments: z.array(permissionAssignment).nullish(),
  externalId: optionalExternalId,
  accessToken: z.string().optional(),
});

export const serviceAccountSchema = z.object({
  userInfo: z.object({
    userId: z.string().min(1),
    isActive: z.boolean(),
    username: optionalString,
    name: optionalString,
    orgId: optionalString,
    tenantId: optionalString,
    kind: optionalString,
    permissionAssignments: z.array(permissionAssignment).nullish(),
    externalId: optionalExternalId,
  }),
  // The token carries `dateCreated`, which the expiry estimate needs: the array is required (it may be empty).
  accessTokens: z.array(accessTokenSchema),
  externalId: optionalExternalId,
});

export const credentialSchema = z.object({
  credentialUuid: z.string().min(1),
  credentialId: z.string(),
  isActive: z.boolean(),
  kind: optionalString,
  name: optionalString,
  dateCreated: optionalString,
  publicKey: optionalString,
});

export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

/** The envelope of a list answer; its items are read one by one (`parseListAnswer`). */
const listEnvelope = z.object({ items: z.array(z.unknown()) });

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

/** Ids as Dfns makes them (`us-…`, `to-…`): only such a string is ever quoted from an unreadable item. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Reads a list answer item by item: one item Dfns shapes unexpectedly must not blind the scan to
 * every other one. An unreadable item is returned by index and id (never its values) with what
 * was wrong. Only a broken envelope (`items` missing) fails the whole call.
 */
export function parseListAnswer<S extends z.ZodType, T>(
  operation: string,
  item: S,
  map: (parsed: z.output<S>) => T,
  idOf: (raw: Record<string, unknown>) => unknown,
  raw: unknown,
): ListAnswer<T> {
  const envelope = parseAnswer(operation, listEnvelope, raw);
  const items: T[] = [];
  const unreadable: UnreadableItem[] = [];
  envelope.items.forEach((candidate, index) => {
    const result = item.safeParse(candidate);
    if (result.success) {
      items.push(map(result.data));
      return;
    }
    const id = candidate !== null && typeof candidate === 'object' ? idOf(candidate as Record<string, unknown>) : undefined;
    unreadable.push({ index, id: typeof id === 'string' && SAFE_ID.test(id) ? id : null, problem: describeIssues(result.error.issues) });
  });
  return { items, unreadable };
}

/** The id of a raw service-account item, if it has a readable one. */
export function rawServiceAccountId(raw: Record<string, unknown>): unknown {
  const info = raw.userInfo;
  return info !== null && typeof info === 'object' ? (info as Record<string, unknown>).userId : undefined;
}

export function rawTokenId(raw: Record<string, unknown>): unknown {
  return raw.tokenId;
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

/** Absent → null (unknown), never `[]`: "no permissions" and "Dfns did not say" are different facts. */
function toAssignments(list: readonly z.output<typeof permissionAssignment>[] | null | undefined): PermissionAssignment[] | null {
  if (!list) return null;
  return list.map(({ permissionId, permissionName, assignmentId }) => ({ permissionId, permissionName: permissionName ?? '', assignmentId: assignmentId ?? '' }));
}

/** A present, non-empty string, else undefined: the documented create examples send `""` for unknown values. */
function given(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Maps to the port record. Drops `accessToken`: records never hold the token. Fallbacks: `name`
 * ← the token id; `orgId` ← `tenantId` (newer answers); `kind` absent → null; `credId` and
 * `publicKey` absent or `""` → `""` (the create path finds the real credId: sdk-client.ts).
 */
export function toAccessTokenRecord(a: AccessTokenAnswer): AccessTokenRecord {
  const record: AccessTokenRecord = {
    tokenId: a.tokenId,
    kind: given(a.kind) ?? null,
    name: given(a.name) ?? a.tokenId,
    isActive: a.isActive,
    dateCreated: a.dateCreated,
    credId: given(a.credId) ?? '',
    linkedUserId: given(a.linkedUserId) ?? null,
    orgId: given(a.orgId) ?? given(a.tenantId) ?? null,
    publicKey: given(a.publicKey) ?? '',
    permissionAssignments: toAssignments(a.permissionAssignments),
  };
  if (typeof a.externalId === 'string') record.externalId = a.externalId;
  return record;
}

/** Fallbacks: `name` ← `username` (the documented examples carry `username` only) ← the user id; `orgId` ← `tenantId`. */
export function toServiceAccountRecord(sa: ServiceAccountAnswer): ServiceAccountRecord {
  const info = sa.userInfo;
  const record: ServiceAccountRecord = {
    id: info.userId,
    name: given(info.name) ?? given(info.username) ?? info.userId,
    username: given(info.username) ?? given(info.name) ?? info.userId,
    orgId: given(info.orgId) ?? given(info.tenantId) ?? null,
    isActive: info.isActive,
    permissionAssignments: toAssignments(info.permissionAssignments),
    accessTokens: sa.accessTokens.map(toAccessTokenRecord),
  };
  const externalId = sa.externalId ?? info.externalId;
  if (typeof externalId === 'string') record.externalId = externalId;
  return record;
}

export function toCredentialRecord(c: CredentialAnswer): CredentialRecord {
  return {
    credentialUuid: c.credentialUuid,
    credentialId: c.credentialId,
    kind: given(c.kind) ?? null,
    name: given(c.name) ?? c.credentialUuid,
    isActive: c.isActive,
    dateCreated: given(c.dateCreated) ?? '',
    publicKey: given(c.publicKey) ?? '',
  };
}

/** The token of a validated create answer (the schema guarantees one). */
export function createdServiceAccountToken(sa: ServiceAccountAnswer): string {
  const token = sa.accessTokens.find((t) => typeof t.accessToken === 'string' && t.accessToken.length > 0)?.accessToken;
  if (!token) throw new Error('unreachable: create answer validated without a token');
  return token;
}
