/**
 * The port the rest of dfns-rotator uses to talk to Dfns. It knows nothing of HTTP: the
 * implementation (`sdk-client.ts`) wraps the official `@dfns/sdk`, adds timeouts, retries, the
 * shared rate limiter and answer validation, and throws the typed errors of `errors.ts`.
 *
 * One `DfnsPort` is bound to one identity: the operator (an org user who logs in with a Key
 * credential), a watcher service account's token, or a PAT owner's token. What each may do is
 * Dfns' rule, not ours (see ../shared/dfns-api.md): e.g. only the operator can create service
 * accounts and PATs.
 */

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'ecdsa-secp256k1' | 'rsa-2048' | 'rsa-3072';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1', 'rsa-2048', 'rsa-3072'];

export interface PermissionAssignment {
  permissionId: string;
  permissionName: string;
  assignmentId: string;
}

/** An access token record as Dfns lists it (`accessTokens[]` of an SA, or a PAT). Never holds the token itself. */
export interface AccessTokenRecord {
  tokenId: string;
  /** `Pat`, `ServiceAccount`, … when Dfns says; null when the answer has none (newer list items). */
  kind: string | null;
  /** Falls back to the token id when Dfns gives none. */
  name: string;
  isActive: boolean;
  /** ISO-8601, UTC. */
  dateCreated: string;
  /**
   * The Key credential id the holder signs user actions with; `""` when the answer did not say
   * (the documented create answer sends `""`). Records returned by a create never carry `""`:
   * the client finds the real one first (sdk-client.ts).
   */
  credId: string;
  linkedUserId: string | null;
  /** `orgId`, else `tenantId` (newer answers), else null. */
  orgId: string | null;
  /** As Dfns lists it: a PEM, or a `SHA256:` fingerprint in list answers; `""` when not given. */
  publicKey: string;
  /** Null when the answer does not list them: unknown, which is not the same as none. */
  permissionAssignments: PermissionAssignment[] | null;
  /** Present only when Dfns returns it on list/get (UNCONFIRMED); used to reconcile creates. */
  externalId?: string;
}

export interface ServiceAccountRecord {
  /** `userInfo.userId` (`us-…`): the id in every service-account path. */
  id: string;
  /** `userInfo.name`, else `username` (documented examples carry only `username`), else the id. */
  name: string;
  username: string;
  orgId: string | null;
  isActive: boolean;
  /** Null when the answer does not list them (unknown, not none). */
  permissionAssignments: PermissionAssignment[] | null;
  accessTokens: AccessTokenRecord[];
  /** Present only when Dfns returns it (UNCONFIRMED). */
  externalId?: string;
}

export type PersonalAccessTokenRecord = AccessTokenRecord;

export interface CredentialRecord {
  credentialUuid: string;
  credentialId: string;
  kind: string | null;
  name: string;
  isActive: boolean;
  dateCreated: string;
  publicKey: string;
}

export interface CreateServiceAccountInput {
  /** Unique in the org. */
  name: string;
  publicKeyPem: string;
  /**
   * Omitted: Dfns' own default (the current reference documents neither a default nor a
   * maximum; older docs said 1..730), possibly a token without `exp`.
   */
  daysValid?: number;
  permissionId?: string;
  /** `rotator:<rotationId>`: correlation for reconciling a create whose answer was lost. */
  externalId?: string;
  /** Reconciliation only (not sent): externalIds of earlier attempts of the same create, which also prove a record ours. */
  earlierExternalIds?: readonly string[];
  /** Reconciliation only (not sent): epoch ms when the first attempt began; a record created before it is not ours. */
  createdAfter?: number;
}

export interface CreatePersonalAccessTokenInput {
  name: string;
  publicKeyPem: string;
  daysValid?: number;
  secondsValid?: number;
  permissionId?: string;
  externalId?: string;
  /** As for service accounts: reconciliation only, not sent. */
  earlierExternalIds?: readonly string[];
  createdAfter?: number;
}

/** What a create returns: the record, plus the access token Dfns shows exactly once. */
export interface Created<T> {
  record: T;
  /** Shown once by Dfns. Store it at once; never log it. */
  accessToken: string;
}

export interface NewKeyCredentialInput {
  /** Display name of the credential in Dfns. */
  name: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** The credential id to register; defaults to a random base64url id. */
  credId?: string;
}

/** One row of Dfns' audit log of signed actions (reads are never logged). */
export interface ActionLogEntry {
  /** Epoch ms. */
  datePerformed: number;
  /** `uj-…` */
  id: string;
  /** The user who signed: a service account's id, or a PAT's owner. */
  userId: string;
  username: string;
  /** "Primary Credential ID": the signing Key credential (`cr-…`, its credentialUuid). */
  credentialId: string;
  actionPath: string;
  summary: string;
}

export interface ActionLogQuery {
  /** Epoch ms, inclusive. */
  startTime: number;
  endTime: number;
  userId?: string;
}

export interface ActionLogPage {
  entries: ActionLogEntry[];
  /** Dfns cut the answer at its row cap (`X-Dfns-Result-Truncated`): later rows are missing. */
  truncated: boolean;
}

/** A list item Dfns answered in a shape the worker cannot read: skipped, and reported by id (never its values). */
export interface UnreadableItem {
  /** Position in `items`. */
  index: number;
  /** Its id (`us-…`, `to-…`) when that much was readable, else null. */
  id: string | null;
  /** Which fields were wrong, e.g. `userInfo.isActive: expected boolean`. */
  problem: string;
}

/** A list answer read item by item: the readable items, and the ones skipped. */
export interface ListAnswer<T> {
  items: T[];
  unreadable: UnreadableItem[];
}

export interface DfnsPort {
  /** Which identity this port acts as, for messages: e.g. `operator alice@acme`, `watcher sa us-123`. */
  readonly identity: string;

  /** The readable items only (see `listServiceAccountsDetailed`). Unreadable items are logged by id either way. */
  listServiceAccounts(): Promise<ServiceAccountRecord[]>;
  /** Every item Dfns listed, read one by one: a malformed item is reported, never hides the others. */
  listServiceAccountsDetailed(): Promise<ListAnswer<ServiceAccountRecord>>;
  getServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord>;
  /** Operator only. A lost answer is reconciled by listing, on evidence only: see `create-reconcile.ts`. */
  createServiceAccount(input: CreateServiceAccountInput): Promise<Created<ServiceAccountRecord>>;
  activateServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord>;
  deactivateServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord>;
  archiveServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord>;

  /** The caller's own PATs only (a Dfns rule). */
  listPersonalAccessTokens(): Promise<PersonalAccessTokenRecord[]>;
  listPersonalAccessTokensDetailed(): Promise<ListAnswer<PersonalAccessTokenRecord>>;
  getPersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord>;
  /** Creates a PAT for the caller (operator login only). */
  createPersonalAccessToken(input: CreatePersonalAccessTokenInput): Promise<Created<PersonalAccessTokenRecord>>;
  activatePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord>;
  deactivatePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord>;
  archivePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord>;

  /** Registers a new Key credential on the caller (`/auth/credentials/init` + `/auth/credentials`), signed with the current one. */
  createKeyCredential(input: NewKeyCredentialInput): Promise<CredentialRecord>;
  listCredentials(): Promise<CredentialRecord[]>;
  activateCredential(credentialUuid: string): Promise<void>;
  deactivateCredential(credentialUuid: string): Promise<void>;

  /**
   * Proves this identity's key signs user actions Dfns accepts, without changing anything: a
   * user-action challenge is created and signed, and the resulting action token is discarded.
   */
  proveSigning(): Promise<void>;

  /**
   * Dfns' audit log of signed actions in a time range (`GET /auth/action/logs`, CSV; needs
   * `Auth:Logs:Read`, a 403 otherwise). Reads never appear in it: it tells who *signed*.
   */
  listActionLogs(query: ActionLogQuery): Promise<ActionLogPage>;

  /**
   * The Key credential ids Dfns lets this identity sign with: `allowCredentials.key` of a
   * user-action challenge made with its token (nothing is signed or changed). The official signer
   * refuses any credId not in this list, so it is the authority on which credId to use.
   */
  signingCredentialIds(): Promise<string[]>;
}
