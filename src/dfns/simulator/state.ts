import type { ParsedPublicKey } from './signatures.js';

/**
 * The simulated org. Model (Dfns' public docs plus the choices marked here):
 * - Org users (`CustomerEmployee`) and service accounts are both users; an SA is a user with
 *   `isServiceAccount` and exactly one access token (kind `ServiceAccount`).
 * - A PAT is an access token (kind `Pat`) linked to its owner user.
 * - Key credentials have an owner: a user (`ownerTokenId` unset) or a PAT (`ownerTokenId` set).
 *   Who may sign with what (the `allowCredentials.key` of a challenge):
 *     user login token -> the user's own credentials (not those of the user's PATs);
 *     SA token         -> the SA user's credentials;
 *     PAT token        -> the PAT's credentials (the key given at PAT creation, plus any added
 *                         with that PAT's token when tokensMayManageCredentials).
 * - Archived SAs/PATs stay in the maps with `archived` set: lists skip them, lookups 404, their
 *   names become free again.
 */
export interface Assignment {
  permissionId: string;
  permissionName: string;
  assignmentId: string;
}

export interface PermissionRecord {
  id: string;
  name: string;
  operations: readonly string[];
}

export interface UserRecord {
  userId: string;
  username: string;
  name: string;
  orgId: string;
  isServiceAccount: boolean;
  isActive: boolean;
  archived: boolean;
  dateCreated: number;
  /** The first credential: `userInfo.credentialUuid`. Empty for a user seeded without one. */
  credentialUuid: string;
  assignments: Assignment[];
  externalId?: string;
  /** SA only: its access token. */
  tokenId?: string;
}

export interface TokenRecord {
  tokenId: string;
  kind: 'ServiceAccount' | 'Pat';
  name: string;
  /** SA: the SA user; PAT: its owner. */
  linkedUserId: string;
  linkedAppId: string;
  orgId: string;
  isActive: boolean;
  archived: boolean;
  dateCreated: number;
  /** Epoch ms of the JWT `exp`; null for a token issued without one. */
  exp: number | null;
  /** The credential the token was created with (`accessTokens[].credId`). */
  credId: string;
  /** PAT only (an SA's permissions live on its user). */
  assignments: Assignment[];
  externalId?: string;
}

export interface CredentialRecord {
  credentialUuid: string;
  credId: string;
  kind: 'Key';
  name: string;
  ownerUserId: string;
  ownerTokenId?: string;
  publicKeyPem: string;
  key: ParsedPublicKey;
  isActive: boolean;
  dateCreated: number;
}

export class SimState {
  readonly orgId: string;
  readonly permissions = new Map<string, PermissionRecord>();
  readonly users = new Map<string, UserRecord>();
  /** Org users (not SAs) by username, for login. */
  readonly usersByUsername = new Map<string, string>();
  /** Live (non-archived) SA user ids, in creation order: the list answer. */
  readonly serviceAccountIds = new Set<string>();
  /** Live SA names -> user id (names are unique per org). */
  readonly serviceAccountNames = new Map<string, string>();
  readonly tokens = new Map<string, TokenRecord>();
  /** Owner user id -> live PAT token ids, in creation order. */
  readonly patsByOwner = new Map<string, Set<string>>();
  readonly credentials = new Map<string, CredentialRecord>();
  readonly credentialsByCredId = new Map<string, string>();
  /** Owner key (PAT token id, else user id) -> credential uuids. */
  readonly credentialsByOwner = new Map<string, string[]>();

  constructor(orgId: string) {
    this.orgId = orgId;
  }

  addUser(user: UserRecord): void {
    this.users.set(user.userId, user);
    if (user.isServiceAccount) {
      this.serviceAccountIds.add(user.userId);
      this.serviceAccountNames.set(user.name, user.userId);
    } else {
      this.usersByUsername.set(user.username, user.userId);
    }
  }

  addToken(token: TokenRecord): void {
    this.tokens.set(token.tokenId, token);
    if (token.kind === 'Pat') {
      let set = this.patsByOwner.get(token.linkedUserId);
      if (!set) this.patsByOwner.set(token.linkedUserId, (set = new Set()));
      set.add(token.tokenId);
    }
  }

  addCredential(cred: CredentialRecord): void {
    this.credentials.set(cred.credentialUuid, cred);
    this.credentialsByCredId.set(cred.credId, cred.credentialUuid);
    const owner = cred.ownerTokenId ?? cred.ownerUserId;
    const list = this.credentialsByOwner.get(owner);
    if (list) list.push(cred.credentialUuid);
    else this.credentialsByOwner.set(owner, [cred.credentialUuid]);
  }

  /** Credentials of an owner (a user id, or a PAT token id), in creation order. */
  credentialsOf(ownerKey: string): CredentialRecord[] {
    const uuids = this.credentialsByOwner.get(ownerKey) ?? [];
    const out: CredentialRecord[] = [];
    for (const uuid of uuids) {
      const cred = this.credentials.get(uuid);
      if (cred) out.push(cred);
    }
    return out;
  }

  liveServiceAccount(userId: string): UserRecord | undefined {
    const user = this.users.get(userId);
    return user && user.isServiceAccount && !user.archived ? user : undefined;
  }

  archiveServiceAccount(user: UserRecord): void {
    user.archived = true;
    user.isActive = false;
    this.serviceAccountIds.delete(user.userId);
    if (this.serviceAccountNames.get(user.name) === user.userId) this.serviceAccountNames.delete(user.name);
    const token = user.tokenId ? this.tokens.get(user.tokenId) : undefined;
    if (token) {
      token.archived = true;
      token.isActive = false;
    }
  }

  renameServiceAccount(user: UserRecord, name: string): void {
    if (this.serviceAccountNames.get(user.name) === user.userId) this.serviceAccountNames.delete(user.name);
    user.name = name;
    this.serviceAccountNames.set(name, user.userId);
    const token = user.tokenId ? this.tokens.get(user.tokenId) : undefined;
    if (token) token.name = name;
  }

  livePatsOf(ownerUserId: string): TokenRecord[] {
    const ids = this.patsByOwner.get(ownerUserId);
    if (!ids) return [];
    const out: TokenRecord[] = [];
    for (const id of ids) {
      const token = this.tokens.get(id);
      if (token && !token.archived) out.push(token);
    }
    return out;
  }

  archivePat(token: TokenRecord): void {
    token.archived = true;
    token.isActive = false;
    this.patsByOwner.get(token.linkedUserId)?.delete(token.tokenId);
  }
}
