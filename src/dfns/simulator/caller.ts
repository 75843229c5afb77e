import { APP_METADATA_CLAIM, isAccessTokenClaims, type JwtIssuer } from './tokens.js';
import { MSG, unauthorized } from './dfns-errors.js';
import type { CredentialRecord, SimState, TokenRecord, UserRecord } from './state.js';

/** Who is calling, from the bearer token. `user` is the acting user: the SA user, or a PAT's owner. */
export type Caller =
  | { kind: 'user'; user: UserRecord }
  | { kind: 'serviceAccount'; user: UserRecord; token: TokenRecord }
  | { kind: 'pat'; user: UserRecord; token: TokenRecord };

/** How Dfns-style 403 messages name the caller: `CustomerEmployee us-…`, `ServiceAccount us-…`, `Pat to-…`. */
export function callerLabel(caller: Caller): string {
  switch (caller.kind) {
    case 'user': return `CustomerEmployee ${caller.user.userId}`;
    case 'serviceAccount': return `ServiceAccount ${caller.user.userId}`;
    case 'pat': return `Pat ${caller.token.tokenId}`;
  }
}

/** The principal user actions and challenges are bound to. */
export function principalKey(caller: Caller): string {
  return caller.kind === 'user' ? `user:${caller.user.userId}` : `token:${caller.token.tokenId}`;
}

/**
 * The Key credentials this caller signs with (see the model in state.ts), active or not. Under
 * the `patKeysOn: 'linked-user'` reading a PAT also signs with its owner's keys, because that is
 * where the keys it registers go.
 */
export function credentialsOfCaller(state: SimState, caller: Caller, patKeysOn: 'pat' | 'linked-user'): CredentialRecord[] {
  if (caller.kind !== 'pat') return state.credentialsOf(caller.user.userId);
  const own = state.credentialsOf(caller.token.tokenId);
  return patKeysOn === 'linked-user' ? [...own, ...state.credentialsOf(caller.user.userId)] : own;
}

export function activeCredentialsOfCaller(state: SimState, caller: Caller, patKeysOn: 'pat' | 'linked-user'): CredentialRecord[] {
  return credentialsOfCaller(state, caller, patKeysOn).filter((c) => c.isActive);
}

/**
 * Resolves `Authorization: Bearer <jwt>`. Every failure is 401 "user token is missing or
 * invalid" (Dfns' wording), with the reason in `details` (no token text).
 */
export function authenticate(state: SimState, jwt: JwtIssuer, authorization: string | undefined, nowMs: number): Caller {
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  if (!match) throw unauthorized(MSG.tokenInvalid, { reason: 'missing bearer token' });
  const claims = jwt.verify(match[1]!);
  if (!claims || !isAccessTokenClaims(claims)) throw unauthorized(MSG.tokenInvalid, { reason: 'signature or format invalid' });
  if (claims.exp !== undefined && nowMs >= claims.exp * 1000) throw unauthorized(MSG.tokenInvalid, { reason: 'token expired' });
  const meta = claims[APP_METADATA_CLAIM];
  if (meta.orgId !== state.orgId) throw unauthorized(MSG.tokenInvalid, { reason: 'token of another org' });
  const user = state.users.get(meta.userId);
  if (!user || user.archived) throw unauthorized(MSG.tokenInvalid, { reason: 'user not found' });

  if (meta.tokenKind === 'Token') {
    if (user.isServiceAccount) throw unauthorized(MSG.tokenInvalid, { reason: 'not a login token' });
    if (!user.isActive) throw unauthorized(MSG.tokenInvalid, { reason: 'user deactivated' });
    return { kind: 'user', user };
  }
  const token = meta.tokenId ? state.tokens.get(meta.tokenId) : undefined;
  if (!token || token.kind !== meta.tokenKind || token.linkedUserId !== user.userId) {
    throw unauthorized(MSG.tokenInvalid, { reason: 'token not found' });
  }
  if (token.archived) throw unauthorized(MSG.tokenInvalid, { reason: 'token archived' });
  if (!token.isActive) throw unauthorized(MSG.tokenInvalid, { reason: 'token deactivated' });
  if (!user.isActive) throw unauthorized(MSG.tokenInvalid, { reason: token.kind === 'Pat' ? 'owner deactivated' : 'service account deactivated' });
  return token.kind === 'Pat' ? { kind: 'pat', user, token } : { kind: 'serviceAccount', user, token };
}
