import { newCredId, newId } from './ids.js';
import type { ParsedPublicKey } from './signatures.js';
import type { Assignment, CredentialRecord, PermissionRecord, SimState, TokenRecord, UserRecord } from './state.js';

/** Record builders shared by the seed and the create endpoints, so both make the same shapes. */
export function newAssignment(permission: PermissionRecord): Assignment {
  return { permissionId: permission.id, permissionName: permission.name, assignmentId: newId('as') };
}

/** Fresh assignments of the same permissions (an inheriting SA/PAT gets its own assignment ids). */
export function copyAssignments(state: SimState, from: readonly Assignment[]): Assignment[] {
  const out: Assignment[] = [];
  for (const a of from) {
    const permission = state.permissions.get(a.permissionId);
    if (permission) out.push(newAssignment(permission));
  }
  return out;
}

export interface KeyMaterial {
  publicKeyPem: string;
  key: ParsedPublicKey;
  credId?: string;
}

export interface TokenSpec {
  name: string;
  dateCreated: number;
  exp: number | null;
  isActive: boolean;
  externalId?: string;
}

function keyCredential(state: SimState, ownerUserId: string, ownerTokenId: string | undefined, material: KeyMaterial, name: string, dateCreated: number): CredentialRecord {
  const cred: CredentialRecord = {
    credentialUuid: newId('cr'),
    credId: material.credId ?? newCredId(),
    kind: 'Key',
    name,
    ownerUserId,
    publicKeyPem: material.publicKeyPem,
    key: material.key,
    isActive: true,
    dateCreated,
  };
  if (ownerTokenId !== undefined) cred.ownerTokenId = ownerTokenId;
  state.addCredential(cred);
  return cred;
}

/** A token record of either kind; a service account's own assignments sit on its user, a PAT's on the token. */
function tokenRecord(state: SimState, kind: TokenRecord['kind'], tokenId: string, linkedUserId: string, credId: string, spec: TokenSpec, assignments: Assignment[]): TokenRecord {
  const token: TokenRecord = {
    tokenId,
    kind,
    name: spec.name,
    linkedUserId,
    linkedAppId: newId('ap'),
    orgId: state.orgId,
    isActive: spec.isActive,
    archived: false,
    dateCreated: spec.dateCreated,
    exp: spec.exp,
    credId,
    assignments,
  };
  if (spec.externalId !== undefined) token.externalId = spec.externalId;
  return token;
}

export function addServiceAccount(
  state: SimState,
  spec: TokenSpec & { userId?: string; assignments: Assignment[] },
  material: KeyMaterial,
): { user: UserRecord; token: TokenRecord } {
  const userId = spec.userId ?? newId('us');
  const tokenId = newId('to');
  const cred = keyCredential(state, userId, undefined, material, spec.name, spec.dateCreated);
  const user: UserRecord = {
    userId,
    username: spec.name,
    name: spec.name,
    orgId: state.orgId,
    isServiceAccount: true,
    isActive: spec.isActive,
    archived: false,
    dateCreated: spec.dateCreated,
    credentialUuid: cred.credentialUuid,
    assignments: spec.assignments,
    tokenId,
  };
  const token = tokenRecord(state, 'ServiceAccount', tokenId, userId, cred.credId, spec, []);
  if (spec.externalId !== undefined) user.externalId = spec.externalId;
  state.addUser(user);
  state.addToken(token);
  return { user, token };
}

export function addPat(
  state: SimState,
  owner: UserRecord,
  spec: TokenSpec & { assignments: Assignment[] },
  material: KeyMaterial,
): TokenRecord {
  const tokenId = newId('to');
  const cred = keyCredential(state, owner.userId, tokenId, material, spec.name, spec.dateCreated);
  const token = tokenRecord(state, 'Pat', tokenId, owner.userId, cred.credId, spec, spec.assignments);
  state.addToken(token);
  return token;
}
