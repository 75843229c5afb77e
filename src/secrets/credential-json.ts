import { z } from 'zod';
import { KEY_ALGORITHMS } from '../dfns/port.js';
import { SecretCorruptError } from './errors.js';
import { describeIssues } from './record-schema.js';
import type { ManagedSecret, VersionMetadata } from './types.js';

/**
 * The one JSON value of a credential that consuming services read, in every store: the value of a
 * Vault KV v2 version, the `SecretString` of an AWS Secrets Manager version, `secret get`'s JSON
 * output, the client helper's input. Field names follow Dfns' own (`serviceAccountId`, `tokenId`,
 * `credId`). Documented in `docs/credential.md`, with a JSON Schema in
 * `docs/credential.schema.json` that a test keeps in step with this file.
 *
 * `metadata` is dfns-rotator's non-secret bookkeeping (version id, rotation id, times); consumers
 * ignore it. Unknown fields are kept on read, so a newer writer's additions survive an older reader.
 */

export const CREDENTIAL_FORMAT = 'dfns-rotator/credential/v1';

const metadataSchema = z.looseObject({
  versionId: z.number().int().positive().optional(),
  createdAt: z.number().finite(),
  expiresAt: z.number().finite().nullable().optional(),
  rotatedAt: z.number().finite().optional(),
  rotationId: z.string().optional(),
  ownerId: z.string().optional(),
  storeRevision: z.number().int().positive().optional().describe('Vault: the revision of the record this version was published from (it never moves backwards).'),
});

export const credentialJsonSchema = z.looseObject({
  format: z.literal(CREDENTIAL_FORMAT).describe('Names this format and its version.'),
  kind: z.enum(['service-account', 'pat']).describe('A Dfns service account or personal access token.'),
  orgId: z.string().describe('Dfns organisation id (or-…): the SDK option orgId.'),
  baseUrl: z.string().describe('Dfns API base URL, e.g. https://api.dfns.io: the SDK option baseUrl.'),
  serviceAccountId: z.string().nullable().optional().describe("The service account's user id (us-…), for kind service-account. Null only in a pending version staged before the create."),
  tokenId: z.string().nullable().optional().describe("The PAT's token id (to-…), for kind pat. Null only in a pending version staged before the create."),
  name: z.string().describe('Dfns name of the service account or PAT.'),
  credId: z.string().describe('Key credential id: the credId of @dfns/sdk-keysigner AsymmetricKeySigner.'),
  accessToken: z.string().nullable().describe('The bearer token (a JWT): the SDK option authToken. Null only in a pending version staged before the create.'),
  privateKey: z.string().describe('PEM private key of the Key credential: the privateKey of AsymmetricKeySigner.'),
  publicKey: z.string().describe('PEM public key of the Key credential.'),
  algorithm: z.enum(KEY_ALGORITHMS).describe('Key algorithm.'),
  expiresAt: z.string().nullable().describe("ISO-8601 UTC expiry from the token's JWT exp; null when the token carries none."),
  metadata: metadataSchema.optional().describe("dfns-rotator's non-secret bookkeeping (version id, rotation id, times in epoch ms); consumers ignore it."),
});

export type CredentialJson = z.infer<typeof credentialJsonSchema>;

/** ManagedSecret (+ optional bookkeeping) → the consumer's JSON object. */
export function toCredentialJson(value: ManagedSecret, metadata?: VersionMetadata & { versionId?: number; storeRevision?: number }): CredentialJson {
  const id = value.kind === 'service-account' ? { serviceAccountId: value.credentialId } : { tokenId: value.credentialId };
  return {
    format: CREDENTIAL_FORMAT,
    kind: value.kind,
    orgId: value.orgId,
    baseUrl: value.baseUrl,
    ...id,
    name: value.name,
    credId: value.credId,
    accessToken: value.accessToken,
    privateKey: value.privateKeyPem,
    publicKey: value.publicKeyPem,
    algorithm: value.algorithm,
    expiresAt: value.expiresAt,
    ...(metadata ? { metadata: pickMetadata(metadata) } : {}),
  };
}

/**
 * The consumer's JSON (text or parsed) → ManagedSecret and its bookkeeping. Throws
 * `SecretCorruptError` naming `where` and the bad fields, never their values.
 */
export function parseCredentialJson(input: string | unknown, where: string): { value: ManagedSecret; metadata: (VersionMetadata & { versionId?: number }) | null } {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch {
      throw new SecretCorruptError(where, 'not JSON');
    }
  }
  const result = credentialJsonSchema.safeParse(data);
  if (!result.success) throw new SecretCorruptError(where, describeIssues(result.error));
  const c = result.data;
  const credentialId = (c.kind === 'service-account' ? c.serviceAccountId : c.tokenId) ?? null;
  return {
    value: {
      kind: c.kind,
      orgId: c.orgId,
      baseUrl: c.baseUrl,
      credentialId,
      name: c.name,
      credId: c.credId,
      accessToken: c.accessToken,
      privateKeyPem: c.privateKey,
      publicKeyPem: c.publicKey,
      algorithm: c.algorithm,
      expiresAt: c.expiresAt,
    },
    metadata: c.metadata ? (c.metadata as VersionMetadata & { versionId?: number }) : null,
  };
}

function pickMetadata(m: VersionMetadata & { versionId?: number; storeRevision?: number }): NonNullable<CredentialJson['metadata']> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
  return out as NonNullable<CredentialJson['metadata']>;
}
