import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseCredentialJson, toCredentialJson } from '../credential-json.js';
import { SecretCorruptError } from '../errors.js';
import { describeIssues } from '../record-schema.js';
import { STAGES, type ManagedSecret, type SecretVersion, type Stage, type VersionMetadata } from '../types.js';

/**
 * How a `SecretRecord` lives in one AWS Secrets Manager secret (pure functions; the adapter in
 * aws-store.ts does the calls). See aws-store.ts for the write protocol.
 *
 * - Each port version's value is an AWS version whose `SecretString` is the consumer's credential
 *   JSON (credential-json.ts). AWS versions are immutable, so a changed value is a new AWS version;
 *   its `ClientRequestToken` (= VersionId) is derived from the rotation id, the port version and a
 *   digest of the text, so a retried write creates nothing new.
 * - The port's stages are AWS' own labels on those versions: current = AWSCURRENT, previous =
 *   AWSPREVIOUS, pending = AWSPENDING. `dfns-rotator-v<N>` marks port version N's AWS version, so
 *   AWS never counts an unlabelled-but-kept version as deprecated and deletes it.
 * - The record itself (revision, version ids, stages, metadata) is a manifest in the metadata of
 *   one more AWS version, the head, labelled `dfns-rotator-head`. Its `SecretString` is still
 *   credential JSON (a copy of the record's current version) so every version of the secret has
 *   the one documented shape. Moving the head label is the commit of a write.
 */

export const AWS_STAGE: Record<Stage, string> = { current: 'AWSCURRENT', previous: 'AWSPREVIOUS', pending: 'AWSPENDING' };
export const HEAD_LABEL = 'dfns-rotator-head';
/** A scratch label for versions being written: PutSecretValue needs at least one label, and one not consumers read. */
export const WRITE_LABEL = 'dfns-rotator-write';
export const versionLabel = (versionId: number) => `dfns-rotator-v${versionId}`;
const VERSION_LABEL_RE = /^dfns-rotator-v\d+$/;
/** Every AWS version id this tool creates starts so; anything else in a secret is foreign. */
export const TOKEN_PREFIX = 'dfr-';

export const MANIFEST_FORMAT = 'dfns-rotator/aws-record/v1';

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  revision: z.number().int().positive(),
  versions: z.array(
    z.object({
      versionId: z.number().int().positive(),
      awsVersionId: z.string().min(1),
      stages: z.array(z.enum(STAGES)),
      metadata: z.looseObject({ createdAt: z.number().finite() }),
      kind: z.enum(['service-account', 'pat']),
      name: z.string(),
      /** Version fields a newer dfns-rotator added, kept as they were. */
      extra: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = Manifest['versions'][number];

/** The labels each AWS version should carry for this manifest, label → AWS version id. */
export function desiredLabels(manifest: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of manifest.versions) {
    out.set(versionLabel(e.versionId), e.awsVersionId);
    for (const s of e.stages) out.set(AWS_STAGE[s], e.awsVersionId);
  }
  return out;
}

export type LabelMove = { label: string; moveTo?: string; removeFrom?: string };

/**
 * The next UpdateSecretVersionStage call that brings the labels AWS shows (VersionIdsToStages)
 * closer to `desired`, or null when they match. AWSCURRENT goes first because moving it drags
 * AWSPREVIOUS along; AWSCURRENT is never removed (AWS refuses that). Labels we do not manage
 * (a consumer's own, the head) are left alone.
 */
export function nextLabelMove(observed: Record<string, string[]>, desired: Map<string, string>): LabelMove | null {
  const holder = new Map<string, string>();
  for (const [id, labels] of Object.entries(observed)) for (const l of labels) holder.set(l, id);
  const order = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS', ...[...desired.keys()].filter((l) => VERSION_LABEL_RE.test(l)).sort()];
  for (const label of order) {
    const want = desired.get(label);
    const have = holder.get(label);
    if (want === undefined || want === have) continue;
    return have === undefined ? { label, moveTo: want } : { label, moveTo: want, removeFrom: have };
  }
  for (const [label, have] of holder) {
    const managed = label === 'AWSPENDING' || label === 'AWSPREVIOUS' || VERSION_LABEL_RE.test(label);
    if (managed && !desired.has(label)) return { label, removeFrom: have };
  }
  return null;
}

export function headOf(observed: Record<string, string[]>): string | null {
  for (const [id, labels] of Object.entries(observed)) if (labels.includes(HEAD_LABEL)) return id;
  return null;
}

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** 32–64 characters, as AWS requires: `dfr-<rotation id>-v<N>-<digest>`. */
export function contentToken(version: SecretVersion, secretString: string): string {
  const rotation = (version.metadata.rotationId ?? 'adopted').replace(/[^A-Za-z0-9]/g, '').slice(0, 26);
  const tail = `-v${version.versionId}-${sha(secretString).slice(0, 24)}`;
  return `${TOKEN_PREFIX}${rotation.slice(0, Math.max(0, 64 - TOKEN_PREFIX.length - tail.length))}${tail}`;
}

export function headToken(revision: number, secretString: string): string {
  return `${TOKEN_PREFIX}head-r${revision}-${sha(secretString).slice(0, 32)}`.slice(0, 64);
}

const VALUE_KEYS = new Set(['kind', 'orgId', 'baseUrl', 'credentialId', 'name', 'credId', 'accessToken', 'privateKeyPem', 'publicKeyPem', 'algorithm', 'expiresAt']);
const JSON_KEYS = new Set(['format', 'kind', 'orgId', 'baseUrl', 'serviceAccountId', 'tokenId', 'name', 'credId', 'accessToken', 'privateKey', 'publicKey', 'algorithm', 'expiresAt', 'metadata']);
const VERSION_KEYS = new Set(['versionId', 'stages', 'metadata', 'value']);

/** The bookkeeping consumers see in a version's `metadata`: facts fixed when the version is written (so a stage move writes no new value). */
function contentMetadata(version: SecretVersion): VersionMetadata & { versionId: number } {
  const m = version.metadata;
  return { versionId: version.versionId, createdAt: m.createdAt, ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}), ...(m.rotationId !== undefined ? { rotationId: m.rotationId } : {}), ...(m.ownerId !== undefined ? { ownerId: m.ownerId } : {}) };
}

/** A version's value as the consumer's credential JSON; value fields a newer dfns-rotator added ride along at the top level. */
export function encodeContent(version: SecretVersion): string {
  return JSON.stringify({ ...extras(version.value, VALUE_KEYS), ...toCredentialJson(version.value, contentMetadata(version)) });
}

/** The head: a copy of the record's current (else pending, else newest) value with the manifest in `metadata.record`. */
export function encodeHead(versions: readonly SecretVersion[], manifest: Manifest): string {
  const primary =
    versions.find((v) => v.stages.includes('current')) ??
    versions.find((v) => v.stages.includes('pending')) ??
    [...versions].sort((a, b) => b.versionId - a.versionId)[0]!;
  const json = toCredentialJson(primary.value, contentMetadata(primary));
  return JSON.stringify({ ...json, metadata: { ...json.metadata, record: manifest } });
}

export function decodeManifest(secretString: string | undefined, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(secretString ?? '');
  } catch {
    throw new SecretCorruptError(where, 'the head version is not JSON');
  }
  const record = (data as { metadata?: { record?: unknown } } | null)?.metadata?.record;
  const result = manifestSchema.safeParse(record);
  if (!result.success) throw new SecretCorruptError(where, `the head version's metadata.record: ${describeIssues(result.error)}`);
  return result.data;
}

export function decodeVersion(entry: ManifestEntry, secretString: string | undefined, where: string): SecretVersion {
  if (secretString === undefined) throw new SecretCorruptError(where, 'the version has no SecretString');
  const raw = safeJson(secretString, where);
  const { value } = parseCredentialJson(raw, where);
  const fullValue = { ...extras(raw, JSON_KEYS), ...value } as ManagedSecret;
  return { ...(entry.extra ?? {}), versionId: entry.versionId, stages: [...entry.stages], metadata: { ...entry.metadata } as VersionMetadata, value: fullValue };
}

export function manifestEntry(version: SecretVersion, awsVersionId: string): ManifestEntry {
  const extra = extras(version, VERSION_KEYS);
  return {
    versionId: version.versionId,
    awsVersionId,
    stages: [...version.stages],
    metadata: { ...version.metadata },
    kind: version.value.kind,
    name: version.value.name,
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

function extras(obj: object, known: Set<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !known.has(k)));
}

function safeJson(text: string, where: string): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(text);
    if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SecretCorruptError(where, 'the SecretString is not a JSON object');
}
