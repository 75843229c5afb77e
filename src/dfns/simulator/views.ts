import type { Assignment, CredentialRecord, SimState, TokenRecord, UserRecord } from './state.js';

/**
 * Answers in the shapes of @dfns/sdk's generated auth types (ServiceAccount = {userInfo,
 * accessTokens}, PAT = AccessToken, Credential). `publicKey` of a token is the `SHA256:`
 * fingerprint, as Dfns lists it; `accessToken` only appears in create answers. `externalId` is
 * added only with the listIncludesExternalId knob (absent from the SDK types; UNCONFIRMED). The
 * other options reproduce shapes Dfns' own documentation prints (knobs of the same names,
 * docs/simulator.md "Answer shapes").
 */
export interface ViewOptions {
  includeExternalId: boolean;
  publicKey?: 'fingerprint' | 'pem' | 'empty';
  createAnswerOmitsCredId: boolean;
  userInfoOmitsName: boolean;
  tenantIdInsteadOfOrgId: boolean;
  omitKind: boolean;
}

/** `orgId`, or `tenantId` in its place. */
function orgField(orgId: string, opts: ViewOptions): { orgId: string } | { tenantId: string } {
  return opts.tenantIdInsteadOfOrgId ? { tenantId: orgId } : { orgId };
}

/** The unreadableItems fault: `isActive` as a string, which no client can take for a boolean. */
export function spoilIfListed<T extends object>(names: readonly string[], name: string, item: T, spoil: (item: T) => void): T {
  if (names.includes(name)) spoil(item);
  return item;
}

function assignmentsView(state: SimState, assignments: readonly Assignment[]) {
  return assignments.map((a) => ({
    permissionId: a.permissionId,
    permissionName: a.permissionName,
    assignmentId: a.assignmentId,
    operations: [...(state.permissions.get(a.permissionId)?.operations ?? [])],
  }));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function tokenView(state: SimState, token: TokenRecord, opts: ViewOptions, accessToken?: string) {
  const cred = state.credentialsByCredId.get(token.credId);
  // The documented create example: the new token's credId and publicKey are "", its kind the user's.
  const documentedCreate = accessToken !== undefined && opts.createAnswerOmitsCredId;
  const record = cred ? state.credentials.get(cred) : undefined;
  const publicKey = documentedCreate || !record || opts.publicKey === 'empty' ? '' : opts.publicKey === 'pem' ? record.publicKeyPem : record.key.fingerprint;
  const assignments = token.kind === 'Pat' ? token.assignments : state.users.get(token.linkedUserId)?.assignments ?? [];
  return {
    ...(accessToken === undefined ? {} : { accessToken }),
    dateCreated: iso(token.dateCreated),
    credId: documentedCreate ? '' : token.credId,
    isActive: token.isActive,
    ...(opts.omitKind ? {} : { kind: documentedCreate ? 'CustomerEmployee' : token.kind }),
    linkedUserId: token.linkedUserId,
    linkedAppId: token.linkedAppId,
    name: token.name,
    ...orgField(token.orgId, opts),
    permissionAssignments: assignmentsView(state, assignments),
    publicKey,
    tokenId: token.tokenId,
    ...(opts.includeExternalId && token.externalId !== undefined ? { externalId: token.externalId } : {}),
  };
}

export function userInfoView(state: SimState, user: UserRecord, opts: ViewOptions) {
  return {
    username: user.username,
    ...(opts.userInfoOmitsName ? {} : { name: user.name }),
    userId: user.userId,
    ...(opts.omitKind ? {} : { kind: 'CustomerEmployee' as const }),
    credentialUuid: user.credentialUuid,
    ...orgField(user.orgId, opts),
    isActive: user.isActive,
    isServiceAccount: user.isServiceAccount,
    isRegistered: true,
    permissionAssignments: assignmentsView(state, user.assignments),
    ...(opts.includeExternalId && user.externalId !== undefined ? { externalId: user.externalId } : {}),
  };
}

export function serviceAccountView(state: SimState, user: UserRecord, opts: ViewOptions, accessToken?: string) {
  const token = user.tokenId ? state.tokens.get(user.tokenId) : undefined;
  return {
    userInfo: userInfoView(state, user, opts),
    accessTokens: token ? [tokenView(state, token, opts, accessToken)] : [],
  };
}

export function credentialView(cred: CredentialRecord) {
  return {
    kind: cred.kind,
    credentialId: cred.credId,
    credentialUuid: cred.credentialUuid,
    dateCreated: iso(cred.dateCreated),
    isActive: cred.isActive,
    name: cred.name,
    publicKey: cred.publicKeyPem,
    relyingPartyId: 'dfns.io',
    origin: '',
  };
}
