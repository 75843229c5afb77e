import type { Assignment, CredentialRecord, SimState, TokenRecord, UserRecord } from './state.js';

/**
 * Answers in the shapes of @dfns/sdk's generated auth types (ServiceAccount = {userInfo,
 * accessTokens}, PAT = AccessToken, Credential). `publicKey` of a token is the `SHA256:`
 * fingerprint, as Dfns lists it; `accessToken` only appears in create answers. `externalId` is
 * added only with the listIncludesExternalId knob (absent from the SDK types; UNCONFIRMED).
 */
export interface ViewOptions {
  includeExternalId: boolean;
  publicKey?: 'fingerprint' | 'pem' | 'empty';
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
  const record = cred ? state.credentials.get(cred) : undefined;
  const publicKey = !record || opts.publicKey === 'empty' ? '' : opts.publicKey === 'pem' ? record.publicKeyPem : record.key.fingerprint;
  const assignments = token.kind === 'Pat' ? token.assignments : state.users.get(token.linkedUserId)?.assignments ?? [];
  return {
    ...(accessToken === undefined ? {} : { accessToken }),
    dateCreated: iso(token.dateCreated),
    credId: token.credId,
    isActive: token.isActive,
    kind: token.kind,
    linkedUserId: token.linkedUserId,
    linkedAppId: token.linkedAppId,
    name: token.name,
    orgId: token.orgId,
    permissionAssignments: assignmentsView(state, assignments),
    publicKey,
    tokenId: token.tokenId,
    ...(opts.includeExternalId && token.externalId !== undefined ? { externalId: token.externalId } : {}),
  };
}

export function userInfoView(state: SimState, user: UserRecord, opts: ViewOptions) {
  return {
    username: user.username,
    name: user.name,
    userId: user.userId,
    kind: 'CustomerEmployee' as const,
    credentialUuid: user.credentialUuid,
    orgId: user.orgId,
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
