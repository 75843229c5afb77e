import type { Clock } from '../../clock.js';
import type { Config } from '../../config/types.js';
import { detectKeyAlgorithm, privateKeyMatchesPublicKey, publicKeyFromPrivate, readTokenExpiry, readTokenIdentity } from '../../dfns/index.js';
import type { AccessTokenRecord, DfnsPort, UnreadableItem } from '../../dfns/port.js';
import { RotatorError, describeError } from '../../errors.js';
import type { CredentialKind } from '../../model.js';
import { addCurrent } from '../../secrets/stages.js';
import { SECRET_NAME_PATTERN, type ManagedSecret, type SecretStore } from '../../secrets/types.js';
import type { Identities } from './identities.js';

/** The credential offered for adoption does not check out; nothing was written. */
export class AdoptError extends RotatorError {
  constructor(message: string) {
    super('ADOPT_REFUSED', message);
  }
}

export interface AdoptInput {
  secretName: string;
  kind: CredentialKind;
  /** SA user id (`us-…`) or PAT token id (`to-…`); read from the token's claims when omitted. */
  credentialId?: string;
  accessToken: string;
  privateKeyPem: string;
  /** The Key credential id; read from Dfns' record when omitted. */
  credId?: string;
  /** Replace a secret that already exists under this name (its current version becomes previous). */
  replaceExisting?: boolean;
}

export interface AdoptDeps {
  store: Pick<SecretStore, 'get' | 'put'>;
  identities: Identities;
  config: Pick<Config, 'dfns'>;
  clock: Clock;
}

export interface Adopted {
  secretName: string;
  credentialId: string;
  name: string;
  expiresAt: number | null;
  versionId: number;
}

/**
 * Brings an existing credential under management: checks that the token is a live token of that
 * credential and that the private key is the credential's signing key (Dfns accepts a user action
 * signed with it), then stores token and key as the secret's `current` version.
 */
export async function adoptCredential(deps: AdoptDeps, input: AdoptInput): Promise<Adopted> {
  if (!SECRET_NAME_PATTERN.test(input.secretName)) throw new AdoptError(`invalid secret name "${input.secretName.slice(0, 80)}": use letters, digits and . _ - /`);
  const expiry = readTokenExpiry(input.accessToken);
  if (expiry.kind === 'malformed') throw new AdoptError(`the access token is not a JWT: ${expiry.reason}`);
  if (expiry.kind === 'expires' && expiry.expiresAt <= deps.clock.now()) throw new AdoptError(`the access token expired at ${new Date(expiry.expiresAt).toISOString()}`);
  let algorithm;
  try {
    algorithm = detectKeyAlgorithm(input.privateKeyPem);
  } catch (err) {
    throw new AdoptError(`the private key is unusable: ${describeError(err)}`);
  }
  const claims = readTokenIdentity(input.accessToken);
  if (claims.orgId && claims.orgId !== deps.config.dfns.orgId) throw new AdoptError(`the token belongs to org ${claims.orgId}, not ${deps.config.dfns.orgId}`);
  const claimedId = input.kind === 'service-account' ? claims.userId : claims.tokenId;
  const credentialId = input.credentialId ?? claimedId;
  if (!credentialId) throw new AdoptError(`the token does not name its ${input.kind === 'pat' ? 'PAT (tokenId)' : 'service account (userId)'}: give the id explicitly`);
  if (claimedId && claimedId !== credentialId) throw new AdoptError(`the token belongs to ${claimedId}, not ${credentialId}`);

  const tokenPort = deps.identities.asSecret({ ...placeholder(input), credId: input.credId ?? 'unknown' }, `adopt ${input.secretName}`);
  const record = await findRecord(deps, input.kind, credentialId, tokenPort);
  if (!record.isActive) throw new AdoptError(`${credentialId} is deactivated in Dfns`);
  const credId = input.credId ?? (record.credId || (await offeredCredId(tokenPort, credentialId)));
  if (record.publicKey.includes('BEGIN') && !privateKeyMatchesPublicKey(input.privateKeyPem, record.publicKey)) {
    throw new AdoptError(`the private key does not match the public key Dfns has for ${credentialId}`);
  }

  const secret: ManagedSecret = {
    kind: input.kind,
    orgId: deps.config.dfns.orgId,
    baseUrl: deps.config.dfns.baseUrl,
    credentialId,
    name: record.name,
    credId,
    accessToken: input.accessToken,
    privateKeyPem: input.privateKeyPem,
    publicKeyPem: publicKeyFromPrivate(input.privateKeyPem),
    algorithm,
    expiresAt: expiry.kind === 'expires' ? new Date(expiry.expiresAt).toISOString() : null,
  };
  try {
    await deps.identities.asSecret(secret, `adopt ${input.secretName}`).proveSigning();
  } catch (err) {
    throw new AdoptError(`Dfns did not accept a user action signed with this key as credential ${credId} of this token: ${describeError(err)}`);
  }

  const existing = await deps.store.get(input.secretName);
  if (existing && !input.replaceExisting) throw new AdoptError(`secret "${input.secretName}" already exists; pass --replace to make this credential its current version`);
  const now = deps.clock.now();
  const { versions, versionId } = addCurrent(existing, input.secretName, secret, {
    createdAt: now,
    adoptedAt: now,
    expiresAt: expiry.kind === 'expires' ? expiry.expiresAt : null,
    credId,
    credentialId,
    ...(input.kind === 'pat' && record.linkedUserId ? { ownerId: record.linkedUserId } : {}),
  });
  await deps.store.put(input.secretName, versions, existing?.revision ?? null);
  return { secretName: input.secretName, credentialId, name: record.name, expiresAt: expiry.kind === 'expires' ? expiry.expiresAt : null, versionId };
}

function refuseUnreadable(unreadable: readonly UnreadableItem[], id: string): void {
  const bad = unreadable.find((u) => u.id === id);
  if (bad) throw new AdoptError(`Dfns lists ${id} but its record cannot be read (${bad.problem}); nothing was stored`);
}

/**
 * The credId when Dfns' record leaves it empty: the one Key credential Dfns offers this token in a
 * user-action challenge (what the signer checks a credId against). Several: the caller must say.
 */
async function offeredCredId(tokenPort: DfnsPort, credentialId: string): Promise<string> {
  const offered = await tokenPort.signingCredentialIds().catch((err: unknown) => {
    throw new AdoptError(`Dfns' record of ${credentialId} names no Key credential id, and asking Dfns which keys this token signs with failed: ${describeError(err)}`);
  });
  if (offered.length === 1) return offered[0]!;
  throw new AdoptError(`Dfns' record of ${credentialId} names no Key credential id and the token may sign with ${offered.length} keys: give the credential id with --cred-id`);
}

function placeholder(input: AdoptInput): ManagedSecret {
  return {
    kind: input.kind, orgId: '', baseUrl: '', credentialId: null, name: '', credId: '', accessToken: input.accessToken,
    privateKeyPem: input.privateKeyPem, publicKeyPem: '', algorithm: 'ecdsa-p256', expiresAt: null,
  };
}

/** The Dfns record of the credential, as the operator/watcher (SAs) or the PAT itself (its owner's PATs) lists it. */
async function findRecord(deps: AdoptDeps, kind: CredentialKind, id: string, tokenPort: DfnsPort): Promise<AccessTokenRecord & { isActive: boolean }> {
  if (kind === 'pat') {
    const pats = await tokenPort.listPersonalAccessTokensDetailed().catch((err: unknown) => {
      throw new AdoptError(`the token was refused by Dfns: ${describeError(err)}`);
    });
    const pat = pats.items.find((p) => p.tokenId === id);
    if (!pat) {
      refuseUnreadable(pats.unreadable, id);
      throw new AdoptError(`PAT ${id} is not among the PATs of this token's owner`);
    }
    return pat;
  }
  const lister = (await deps.identities.watcher()) ?? (await deps.identities.operator());
  if (!lister) throw new AdoptError('adopting a service account needs an operator or watcher identity to look it up');
  const listed = await lister.listServiceAccountsDetailed();
  const sa = listed.items.find((s) => s.id === id);
  if (!sa) {
    refuseUnreadable(listed.unreadable, id);
    throw new AdoptError(`service account ${id} is not in org ${deps.config.dfns.orgId}`);
  }
  const token = sa.accessTokens.find((t) => t.isActive) ?? sa.accessTokens[0];
  if (!token) throw new AdoptError(`service account ${id} has no access token`);
  return { ...token, name: sa.name, isActive: sa.isActive && token.isActive };
}
