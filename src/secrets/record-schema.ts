import { z } from 'zod';
import { KEY_ALGORITHMS } from '../dfns/port.js';
import { SecretCorruptError, SecretStageError } from './errors.js';
import { STAGES, type SecretRecord, type SecretVersion } from './types.js';

/**
 * The stored shape of a secret record, shared by every adapter. Objects are loose: fields a newer
 * version of dfns-rotator added are kept (and written back unchanged by the stage moves, which
 * copy with spread), so a downgrade does not lose them.
 */

const managedSecretSchema = z.looseObject({
  kind: z.enum(['service-account', 'pat']),
  orgId: z.string(),
  baseUrl: z.string(),
  credentialId: z.string().nullable(),
  name: z.string(),
  credId: z.string(),
  accessToken: z.string().nullable(),
  privateKeyPem: z.string(),
  publicKeyPem: z.string(),
  algorithm: z.enum(KEY_ALGORITHMS),
  expiresAt: z.string().nullable(),
});

const epochMs = z.number().finite();

const versionMetadataSchema = z.looseObject({
  createdAt: epochMs,
  expiresAt: epochMs.nullable().optional(),
  credId: z.string().optional(),
  credentialId: z.string().nullable().optional(),
  rotatedAt: epochMs.optional(),
  adoptedAt: epochMs.optional(),
  rotationId: z.string().optional(),
  ownerId: z.string().optional(),
  createAttempt: z.looseObject({ attempt: z.number().int().positive(), name: z.string(), firstAt: epochMs }).optional(),
});

const secretVersionSchema = z.looseObject({
  versionId: z.number().int().positive(),
  stages: z.array(z.enum(STAGES)),
  metadata: versionMetadataSchema,
  value: managedSecretSchema,
});

const versionsSchema = z.array(secretVersionSchema);

const secretRecordSchema = z.looseObject({
  name: z.string(),
  revision: z.number().int().positive(),
  versions: versionsSchema,
});

// Compile-time check that the schema and the port's types agree.
const _recordTypeCheck: (r: z.infer<typeof secretRecordSchema>) => SecretRecord = (r) => r;
void _recordTypeCheck;

/** Validates a decrypted record; throws `SecretCorruptError` naming `where` and the first bad field. */
export function parseStoredRecord(data: unknown, where: string): SecretRecord {
  const result = secretRecordSchema.safeParse(data);
  if (!result.success) throw new SecretCorruptError(where, describeIssues(result.error));
  const problem = labelProblem(result.data.versions);
  if (problem) throw new SecretCorruptError(where, problem);
  return result.data;
}

/**
 * Refuses to write versions the store could not read back, or whose labels break the stage rules
 * (a label on two versions, a repeated version id). Throws `SecretStageError`; nothing is written.
 */
export function checkVersionsForWrite(name: string, versions: readonly SecretVersion[]): void {
  const result = versionsSchema.safeParse(versions);
  if (!result.success) throw new SecretStageError(name, `refusing to write an invalid record: ${describeIssues(result.error, 'versions')}`);
  const problem = labelProblem(result.data);
  if (problem) throw new SecretStageError(name, `refusing to write: ${problem}`);
}

function labelProblem(versions: readonly { versionId: number; stages: readonly string[] }[]): string | null {
  const ids = new Set<number>();
  const labelled = new Map<string, number>();
  for (const v of versions) {
    if (ids.has(v.versionId)) return `version id ${v.versionId} appears twice`;
    ids.add(v.versionId);
    for (const stage of v.stages) {
      const other = labelled.get(stage);
      if (other !== undefined) return `stage "${stage}" is on versions ${other} and ${v.versionId}`;
      labelled.set(stage, v.versionId);
    }
  }
  return null;
}

/** Field paths and zod's type-level messages only: the input values (secrets) never appear. */
export function describeIssues(error: z.ZodError, root = ''): string {
  const parts = error.issues.slice(0, 3).map((issue) => `${formatPath(root, issue.path)}: ${issue.message}`);
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return parts.join('; ') + more;
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(record)';
}
