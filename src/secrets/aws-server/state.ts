import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { AwsApiError, invalidParameter, invalidRequest, notFound, resourceExists } from './aws-errors.js';

/**
 * The secrets of the local Secrets Manager server and the rules of the real service, from the AWS
 * Secrets Manager API reference: versions are immutable; a staging label is on at most one version
 * of a secret; moving AWSCURRENT moves AWSPREVIOUS to the version it left; the first version of a
 * secret always gets AWSCURRENT; a version without labels is deprecated, and once the secret holds
 * more than 100 versions the oldest deprecated ones older than 24 hours are removed (a new version
 * beyond that quota is refused); `ClientRequestToken` is the new version's id and makes a repeated
 * write with the same value a no-op.
 */

interface Version {
  versionId: string;
  secretString: string;
  createdAt: number;
  stages: Set<string>;
}

interface Secret {
  arn: string;
  name: string;
  description: string | undefined;
  kmsKeyId: string | undefined;
  createdAt: number;
  changedAt: number;
  deletedAt: number | undefined;
  /** In creation order. */
  versions: Version[];
}

/** AWS keeps at most this many versions; the oldest deprecated ones beyond it go, if older than a day. */
const MAX_VERSIONS = 100;
const KEEP_NEW_VERSIONS_MS = 86_400_000;
/** Per the API reference's quotas. */
const MAX_LABELS_PER_VERSION = 20;
const NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const TOKEN_RE = /^.{32,64}$/s;
const STAGE_RE = /^.{1,256}$/s;

export interface StateOptions {
  region: string;
  accountId: string;
  clock: Clock;
}

export class SecretsManagerState {
  readonly #secrets = new Map<string, Secret>();
  readonly #options: StateOptions;

  constructor(options: StateOptions) {
    this.#options = options;
  }

  createSecret(input: { Name?: unknown; ClientRequestToken?: unknown; Description?: unknown; KmsKeyId?: unknown; SecretString?: unknown; SecretBinary?: unknown }) {
    const name = requireString(input.Name, 'Name');
    if (!NAME_RE.test(name)) throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    if (input.SecretBinary !== undefined) throw invalidParameter('This server stores SecretString only.');
    const existing = this.#secrets.get(name);
    if (existing?.deletedAt !== undefined) throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
    if (existing) throw resourceExists(`The operation failed because the secret ${name} already exists.`);
    const now = this.#now();
    const suffix = randomBytes(3).toString('hex');
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.#options.region}:${this.#options.accountId}:secret:${name}-${suffix}`,
      name,
      description: optionalString(input.Description, 'Description'),
      kmsKeyId: optionalString(input.KmsKeyId, 'KmsKeyId'),
      createdAt: now,
      changedAt: now,
      deletedAt: undefined,
      versions: [],
    };
    let versionId: string | undefined;
    if (input.SecretString !== undefined) {
      const token = optionalString(input.ClientRequestToken, 'ClientRequestToken') ?? randomUUID();
      checkToken(token);
      versionId = this.#addVersion(secret, token, requireString(input.SecretString, 'SecretString'), ['AWSCURRENT']).versionId;
    }
    this.#secrets.set(name, secret);
    return { ARN: secret.arn, Name: secret.name, ...(versionId ? { VersionId: versionId } : {}) };
  }

  putSecretValue(input: { SecretId?: unknown; ClientRequestToken?: unknown; SecretString?: unknown; SecretBinary?: unknown; VersionStages?: unknown }) {
    const secret = this.#live(input.SecretId);
    if (input.SecretBinary !== undefined) throw invalidParameter('This server stores SecretString only.');
    const value = requireString(input.SecretString, 'SecretString');
    const token = optionalString(input.ClientRequestToken, 'ClientRequestToken') ?? randomUUID();
    checkToken(token);
    const stages = input.VersionStages === undefined ? ['AWSCURRENT'] : stageList(input.VersionStages, 'VersionStages');
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing) {
      if (existing.secretString !== value) throw resourceExists("You can't modify an existing version, you can only create a new version.");
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: [...existing.stages] };
    }
    const version = this.#addVersion(secret, token, value, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  getSecretValue(input: { SecretId?: unknown; VersionId?: unknown; VersionStage?: unknown }) {
    const secret = this.#live(input.SecretId);
    const versionId = optionalString(input.VersionId, 'VersionId');
    const stage = optionalString(input.VersionStage, 'VersionStage') ?? (versionId ? undefined : 'AWSCURRENT');
    const version = secret.versions.find((v) => (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.has(stage)));
    if (!version) {
      const what = versionId && stage ? `VersionId ${versionId} and staging label ${stage}` : versionId ? `VersionId ${versionId}` : `staging label: ${stage}`;
      throw notFound(`Secrets Manager can't find the specified secret value for ${what}`);
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretString: version.secretString, VersionStages: [...version.stages], CreatedDate: seconds(version.createdAt) };
  }

  updateSecretVersionStage(input: { SecretId?: unknown; VersionStage?: unknown; MoveToVersionId?: unknown; RemoveFromVersionId?: unknown }) {
    const secret = this.#live(input.SecretId);
    const stage = requireString(input.VersionStage, 'VersionStage');
    if (!STAGE_RE.test(stage)) throw invalidParameter('VersionStage must be 1 to 256 characters.');
    const moveTo = optionalString(input.MoveToVersionId, 'MoveToVersionId');
    const removeFrom = optionalString(input.RemoveFromVersionId, 'RemoveFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    const holder = secret.versions.find((v) => v.stages.has(stage));
    // Wording of AWS' own answers.
    if (removeFrom !== undefined && holder?.versionId !== removeFrom) {
      throw invalidParameter(`When you move staging label ${stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${stage}.`);
    }
    const target = moveTo === undefined ? undefined : secret.versions.find((v) => v.versionId === moveTo);
    if (moveTo !== undefined && !target) throw notFound(`Secrets Manager can't find the specified secret version: ${moveTo}`);
    if (target && holder && holder !== target && removeFrom === undefined) {
      throw invalidParameter(`The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`);
    }
    if (stage === 'AWSCURRENT' && !target) throw invalidParameter("You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
    if (target && !target.stages.has(stage) && target.stages.size >= MAX_LABELS_PER_VERSION) {
      throw new AwsApiError('LimitExceededException', `A version can have at most ${MAX_LABELS_PER_VERSION} staging labels.`);
    }
    if (target) this.#attach(secret, target, stage);
    else holder?.stages.delete(stage);
    secret.changedAt = this.#now();
    this.#prune(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  describeSecret(input: { SecretId?: unknown }) {
    const secret = this.#find(input.SecretId);
    return {
      ...summary(secret),
      VersionIdsToStages: versionsToStages(secret),
      ...(secret.deletedAt !== undefined ? { DeletedDate: seconds(secret.deletedAt) } : {}),
    };
  }

  listSecrets(input: { MaxResults?: unknown; NextToken?: unknown; Filters?: unknown; IncludePlannedDeletion?: unknown; SortOrder?: unknown }) {
    const max = input.MaxResults === undefined ? 100 : input.MaxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) throw invalidParameter('MaxResults must be an integer from 1 to 100.');
    const filters = parseFilters(input.Filters);
    const start = input.NextToken === undefined ? 0 : decodeNextToken(input.NextToken);
    const all = [...this.#secrets.values()]
      .filter((s) => input.IncludePlannedDeletion === true || s.deletedAt === undefined)
      .filter((s) => filters.every((f) => f(s)))
      .sort((a, b) => a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1));
    if (input.SortOrder === 'desc') all.reverse();
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return {
      SecretList: page.map((s) => ({ ...summary(s), SecretVersionsToStages: versionsToStages(s), ...(s.deletedAt !== undefined ? { DeletedDate: seconds(s.deletedAt) } : {}) })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  deleteSecret(input: { SecretId?: unknown; RecoveryWindowInDays?: unknown; ForceDeleteWithoutRecovery?: unknown }) {
    const secret = this.#find(input.SecretId);
    if (input.ForceDeleteWithoutRecovery === true && input.RecoveryWindowInDays !== undefined) {
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const now = this.#now();
    if (input.ForceDeleteWithoutRecovery === true) {
      this.#secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now) };
    }
    const days = input.RecoveryWindowInDays ?? 30;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) throw invalidParameter('RecoveryWindowInDays must be an integer from 7 to 30.');
    secret.deletedAt ??= now;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletedAt + days * 86_400_000) };
  }

  #addVersion(secret: Secret, versionId: string, secretString: string, stages: string[]): Version {
    if (secretString.length > 65_536) throw invalidParameter('SecretString must be at most 65536 bytes.');
    if (new Set(stages).size > MAX_LABELS_PER_VERSION) throw new AwsApiError('LimitExceededException', `A version can have at most ${MAX_LABELS_PER_VERSION} staging labels.`);
    this.#prune(secret, MAX_VERSIONS - 1);
    if (secret.versions.length >= MAX_VERSIONS) {
      throw new AwsApiError('LimitExceededException', `You have exceeded the quota of ${MAX_VERSIONS} versions for the secret ${secret.name}; versions created in the last 24 hours are kept.`);
    }
    const version: Version = { versionId, secretString, createdAt: this.#now(), stages: new Set() };
    const first = secret.versions.length === 0;
    secret.versions.push(version);
    for (const stage of first && !stages.includes('AWSCURRENT') ? ['AWSCURRENT', ...stages] : stages) this.#attach(secret, version, stage);
    secret.changedAt = version.createdAt;
    this.#prune(secret);
    return version;
  }

  /** Puts `stage` on `target`, taking it off the version that had it; AWSCURRENT drags AWSPREVIOUS behind it. */
  #attach(secret: Secret, target: Version, stage: string): void {
    const holder = secret.versions.find((v) => v.stages.has(stage));
    if (holder === target) return;
    holder?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === 'AWSCURRENT' && holder) {
      for (const v of secret.versions) v.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
  }

  /** Removes the oldest deprecated versions older than a day while there are more than `keep`. */
  #prune(secret: Secret, keep = MAX_VERSIONS): void {
    const cutoff = this.#now() - KEEP_NEW_VERSIONS_MS;
    while (secret.versions.length > keep) {
      const i = secret.versions.findIndex((v) => v.stages.size === 0 && v.createdAt < cutoff);
      if (i < 0) return;
      secret.versions.splice(i, 1);
    }
  }

  /** By name or ARN (a full ARN, or a partial one without the random suffix). */
  #find(id: unknown): Secret {
    const secretId = requireString(id, 'SecretId');
    const byName = this.#secrets.get(secretId);
    if (byName) return byName;
    for (const s of this.#secrets.values()) if (s.arn === secretId || s.arn.slice(0, -7) === secretId) return s;
    throw notFound("Secrets Manager can't find the specified secret.");
  }

  #live(id: unknown): Secret {
    const secret = this.#find(id);
    if (secret.deletedAt !== undefined) throw invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
    return secret;
  }

  #now(): number {
    return this.#options.clock.now();
  }
}

function summary(s: Secret) {
  return {
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined ? { Description: s.description } : {}),
    ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
    CreatedDate: seconds(s.createdAt),
    LastChangedDate: seconds(s.changedAt),
  };
}

/** Only versions with labels: the API reference calls the others deprecated and leaves them out. */
function versionsToStages(s: Secret): Record<string, string[]> {
  return Object.fromEntries(s.versions.filter((v) => v.stages.size > 0).map((v) => [v.versionId, [...v.stages]]));
}

/** JSON 1.1 timestamps are epoch seconds. */
const seconds = (ms: number) => ms / 1000;

function parseFilters(raw: unknown): ((s: Secret) => boolean)[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 10) throw invalidParameter('Filters must be a list of at most 10 filters.');
  return raw.map((f: unknown) => {
    const { Key, Values } = (f ?? {}) as { Key?: unknown; Values?: unknown };
    if (!Array.isArray(Values) || Values.length === 0 || Values.some((v) => typeof v !== 'string')) throw invalidParameter('Each filter needs a non-empty list of Values.');
    const values = Values as string[];
    const field = (s: Secret): string[] => {
      switch (Key) {
        case 'name':
          return [s.name];
        case 'description':
          return [s.description ?? ''];
        case 'all':
          return [s.name, s.description ?? ''];
        default:
          throw invalidParameter(`This server supports the filter keys name, description and all, not ${JSON.stringify(Key)}.`);
      }
    };
    // A value is a case-insensitive prefix; a leading ! negates it (the reference's filter rules).
    return (s: Secret) =>
      values.some((v) => {
        const negate = v.startsWith('!');
        const want = (negate ? v.slice(1) : v).toLowerCase();
        const hit = field(s).some((text) => text.toLowerCase().startsWith(want));
        return negate ? !hit : hit;
      });
  });
}

function decodeNextToken(raw: unknown): number {
  const n = typeof raw === 'string' ? Number(Buffer.from(raw, 'base64').toString('utf8')) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new AwsApiError('InvalidNextTokenException', 'The NextToken value is invalid.');
  return n;
}

function requireString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw invalidParameter(`${field} is required and must be a non-empty string.`);
  return v;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return requireString(v, field);
}

function stageList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_LABELS_PER_VERSION || v.some((s) => typeof s !== 'string' || !STAGE_RE.test(s))) {
    throw invalidParameter(`${field} must list 1 to ${MAX_LABELS_PER_VERSION} staging labels of 1 to 256 characters.`);
  }
  return v as string[];
}

function checkToken(token: string): void {
  if (!TOKEN_RE.test(token)) throw invalidParameter('ClientRequestToken must be 32 to 64 characters.');
}

/** A stable fake account id per server, for ARNs. */
export function accountIdFor(accessKeyId: string): string {
  return String(parseInt(createHash('sha256').update(accessKeyId).digest('hex').slice(0, 10), 16)).padStart(12, '0').slice(-12);
}
