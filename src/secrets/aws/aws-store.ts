import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { realSleep, type Sleep } from '../../clock.js';
import { fullJitterDelay } from '../../dfns/backoff.js';
import { silentLogger, type Logger } from '../../logger.js';
import { SecretConflictError, SecretStageError } from '../errors.js';
import { checkSecretName, isSecretName } from '../file-names.js';
import { mapLimited } from '../map-limited.js';
import { checkVersionsForWrite } from '../record-schema.js';
import type { SecretRecord, SecretStore, SecretSummary, SecretVersion } from '../types.js';
import { errorName, isTransient, mapAwsFailure } from './aws-failures.js';
import {
  HEAD_LABEL, MANIFEST_FORMAT, TOKEN_PREFIX, WRITE_LABEL, contentToken, decodeManifest, decodeVersion, desiredLabels, encodeContent, encodeHead,
  headOf, headToken, manifestEntry, nextLabelMove, type LabelMove, type Manifest,
} from './aws-record.js';

/**
 * The AWS Secrets Manager store: one AWS secret per record, named `namePrefix + name`, laid out as
 * aws-record.ts describes (values as AWS versions under AWS' own AWSPENDING/AWSCURRENT/AWSPREVIOUS
 * labels; the record's manifest in a head version).
 *
 * A write (`put`):
 *   1. reads the head and checks its revision against `expectedRevision`;
 *   2. creates the AWS versions of changed values (PutSecretValue, ClientRequestToken derived from
 *      the rotation id, version and text: a retry is a no-op), labelled only with a scratch label;
 *   3. creates the new head version holding the manifest;
 *   4. commits: UpdateSecretVersionStage moves `dfns-rotator-head` to the new head with
 *      `RemoveFromVersionId` = the head read in 1 (for a new secret: attaches it with no
 *      RemoveFromVersionId). AWS refuses the move when the label is no longer on that version, so
 *      this one call is the compare-and-set;
 *   5. moves AWS' labels to match the manifest, one UpdateSecretVersionStage at a time, each again
 *      naming the version the label is expected on.
 *
 * Two writers racing with the same expected revision: both may create versions in 2–3, but only
 * one head move in 4 succeeds; the other gets `SecretConflictError` and nothing it wrote is
 * reachable (its versions carry no label consumers read, and AWS drops unlabelled versions in
 * time). They cannot both commit, and a loser can never move AWSCURRENT: only a committed writer
 * runs 5, and it stops as soon as the head is no longer its own. What they can do: a writer that
 * committed and was then overtaken may still make one label move from its view of the labels
 * while the next writer makes its own; every `get` and `put` compares the labels with the
 * committed manifest and finishes the job, so the labels converge on the last commit.
 *
 * A crash between any two calls leaves a completable state: before 4 nothing changed (the next
 * write reuses the versions by token); after 4 the record is committed and the next `get` or `put`
 * of that secret completes 5. Consumers reading AWSCURRENT see the old credential until 5 moves
 * it, never a pending one: AWSCURRENT only ever moves to a version a committed manifest calls current.
 *
 * Two AWS facts shape the rest: AWS puts AWSCURRENT on the first version of a secret whatever
 * labels were asked for, so a new secret must be written with a current version, created first;
 * and AWS never deletes a version on request, so a dropped version's key stays readable by
 * VersionId until AWS ages it out (its credential is retired at Dfns by then).
 */

export interface AwsSecretsManagerStoreOptions {
  region: string;
  endpoint: string | null;
  kmsKeyId: string | null;
  namePrefix: string;
  /** Only for tests and the demo's local server; production uses the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  logger?: Logger;
  sleep?: Sleep;
  /** Attempts of the SDK's own retry strategy per call (standard mode: backoff with jitter, throttling aware). */
  sdkMaxAttempts?: number;
  /** Our retries on top, after the SDK gave up on throttling or a 5xx. */
  retries?: number;
  random?: () => number;
}

type Observed = Record<string, string[]>;

const DEFAULT_SDK_ATTEMPTS = 3;
const DEFAULT_RETRIES = 4;
const RETRY_BACKOFF = { baseDelayMs: 250, maxDelayMs: 8_000 } as const;
/** A promote is two or three label moves; more means another writer keeps moving them. */
const MAX_LABEL_MOVES = 12;
const LIST_CONCURRENCY = 8;
const DESCRIPTION = 'Dfns credential managed by dfns-rotator: read AWSCURRENT (the labels dfns-rotator-* are its bookkeeping)';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

export class AwsSecretsManagerStore implements SecretStore {
  readonly description: string;
  readonly #options: AwsSecretsManagerStoreOptions;
  readonly #logger: Logger;
  readonly #sleep: Sleep;
  #ready: Promise<{ sdk: Sdk; client: SecretsManagerClient }> | null = null;

  constructor(options: AwsSecretsManagerStoreOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#sleep = options.sleep ?? realSleep;
    this.description = `aws-secrets-manager:${options.region}${options.endpoint ? `@${options.endpoint}` : ''}/${options.namePrefix}`;
  }

  async list(): Promise<SecretSummary[]> {
    const { sdk } = await this.#open();
    const prefix = this.#options.namePrefix;
    const found: { name: string; awsName: string; head: string }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#call('ListSecrets', prefix || '*', (c) => c.send(new sdk.ListSecretsCommand({ MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}), ...(prefix ? { Filters: [{ Key: 'name', Values: [prefix] }] } : {}) })));
      for (const s of page.SecretList ?? []) {
        // The name filter is a case-insensitive prefix match: check it exactly.
        if (!s.Name?.startsWith(prefix) || s.DeletedDate) continue;
        const name = s.Name.slice(prefix.length);
        const head = headOf(s.SecretVersionsToStages ?? {});
        if (!head || !isSecretName(name)) continue; // not a record of ours (yet)
        found.push({ name, awsName: s.Name, head });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    const summaries = await mapLimited(found, LIST_CONCURRENCY, async ({ name, awsName, head }) => {
      const manifest = await this.#readManifest(awsName, head, ['ResourceNotFoundException']).catch((err: unknown) => {
        if (errorName(err) === 'ResourceNotFoundException') return null; // rewritten or deleted meanwhile
        throw err;
      });
      if (!manifest) return null;
      return {
        name,
        revision: manifest.revision,
        versions: manifest.versions.map((e) => ({ versionId: e.versionId, stages: [...e.stages], metadata: { ...e.metadata } as SecretSummary['versions'][number]['metadata'], kind: e.kind, name: e.name })),
      } satisfies SecretSummary;
    });
    return summaries.filter((s): s is SecretSummary => s !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<SecretRecord | null> {
    checkSecretName(name);
    const awsName = this.#awsName(name);
    const observed = await this.#describe(awsName);
    const head = observed && headOf(observed);
    if (!observed || !head) return null;
    const manifest = await this.#readManifest(awsName, head);
    if (nextLabelMove(observed, desiredLabels(manifest))) {
      // A write committed but its label moves did not finish (a crash, or a race): finish them.
      await this.#applyLabels(awsName, head, manifest).catch((err: unknown) => {
        this.#logger.warn({ secretName: name, err: String((err as Error)?.message ?? err) }, 'could not bring the AWS staging labels in line with the committed record; the next read or write retries');
      });
    }
    const { sdk } = await this.#open();
    const versions = await Promise.all(
      manifest.versions.map(async (entry) => {
        const where = `${awsName} version ${entry.awsVersionId}`;
        const got = await this.#call('GetSecretValue', awsName, (c) => c.send(new sdk.GetSecretValueCommand({ SecretId: awsName, VersionId: entry.awsVersionId })));
        return decodeVersion(entry, got.SecretString, where);
      }),
    );
    return { name, revision: manifest.revision, versions };
  }

  async put(name: string, versions: SecretVersion[], expectedRevision: number | null): Promise<number> {
    checkSecretName(name);
    checkVersionsForWrite(name, versions);
    if (versions.length === 0) throw new SecretStageError(name, 'refusing to write a record with no versions: an AWS secret always keeps its AWSCURRENT version');
    const { sdk } = await this.#open();
    const awsName = this.#awsName(name);

    // 1. the committed head and its revision
    let observed = await this.#describe(awsName);
    const oldHead = observed ? headOf(observed) : null;
    const oldManifest = oldHead ? await this.#readManifest(awsName, oldHead) : null;
    const actual = oldManifest?.revision ?? null;
    if (actual !== expectedRevision) throw new SecretConflictError(name, expectedRevision, actual);
    if (!oldHead) {
      if (observed) this.#refuseForeign(name, awsName, observed);
      if (!observed) {
        await this.#call('CreateSecret', awsName, (c) => c.send(new sdk.CreateSecretCommand({ Name: awsName, Description: DESCRIPTION, ...(this.#options.kmsKeyId ? { KmsKeyId: this.#options.kmsKeyId } : {}) })), ['ResourceExistsException']).catch((err: unknown) => {
          if (errorName(err) !== 'ResourceExistsException') throw err; // a racing writer created it: the head move decides
        });
        observed = {};
      }
      if (Object.keys(observed).length === 0 && !versions.some((v) => v.stages.includes('current'))) {
        throw new SecretStageError(name, 'the first write of an AWS secret needs a current version (AWS makes the first version of a secret AWSCURRENT, and a pending credential must never be what consumers read)');
      }
    }

    // 2. values: the current one first, so that AWS' automatic AWSCURRENT on a first version lands on it
    const entries = new Map<number, ReturnType<typeof manifestEntry>>();
    const ordered = [...versions].sort((a, b) => Number(b.stages.includes('current')) - Number(a.stages.includes('current')));
    for (const v of ordered) {
      const text = encodeContent(v);
      const token = contentToken(v, text);
      if (oldManifest?.versions.find((e) => e.versionId === v.versionId)?.awsVersionId !== token) {
        await this.#putValue(awsName, token, text);
      }
      entries.set(v.versionId, manifestEntry(v, token));
    }

    // 3. the head
    const manifest: Manifest = { format: MANIFEST_FORMAT, revision: (actual ?? 0) + 1, versions: versions.map((v) => entries.get(v.versionId)!) };
    const headText = encodeHead(versions, manifest);
    const newHead = headToken(manifest.revision, headText);
    await this.#putValue(awsName, newHead, headText);

    // 4. commit
    try {
      await this.#call('UpdateSecretVersionStage', awsName, (c) => c.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: awsName, VersionStage: HEAD_LABEL, MoveToVersionId: newHead, ...(oldHead ? { RemoveFromVersionId: oldHead } : {}) })), ['InvalidParameterException']);
    } catch (err) {
      if (errorName(err) !== 'InvalidParameterException') throw err;
      // The head moved since step 1, unless that was our own move answered late (a retried call).
      const now = await this.#describe(awsName);
      const headNow = now ? headOf(now) : null;
      if (headNow !== newHead) {
        const found = headNow ? (await this.#readManifest(awsName, headNow)).revision : null;
        throw new SecretConflictError(name, expectedRevision, found);
      }
    }

    // 5. AWS' labels
    await this.#applyLabels(awsName, newHead, manifest).catch((err: unknown) => {
      this.#logger.warn({ secretName: name, err: String((err as Error)?.message ?? err) }, 'record written, but the AWS staging labels are not all moved yet; the next read or write of this secret finishes them');
    });
    return manifest.revision;
  }

  async close(): Promise<void> {
    const ready = this.#ready;
    this.#ready = null;
    if (ready) (await ready.catch(() => null))?.client.destroy();
  }

  /** Moves labels until they match `manifest`, while `head` is still the committed head. */
  async #applyLabels(awsName: string, head: string, manifest: Manifest): Promise<void> {
    const { sdk } = await this.#open();
    const desired = desiredLabels(manifest);
    for (let i = 0; i < MAX_LABEL_MOVES; i++) {
      const observed = (await this.#describe(awsName)) ?? {};
      if (headOf(observed) !== head) return; // a newer write owns the labels now
      const move: LabelMove | null = nextLabelMove(observed, desired);
      if (!move) return;
      try {
        await this.#call('UpdateSecretVersionStage', awsName, (c) => c.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: awsName, VersionStage: move.label, ...(move.moveTo ? { MoveToVersionId: move.moveTo } : {}), ...(move.removeFrom ? { RemoveFromVersionId: move.removeFrom } : {}) })), ['InvalidParameterException']);
      } catch (err) {
        if (errorName(err) !== 'InvalidParameterException') throw err; // the label moved under us: look again
      }
    }
    throw new Error(`the staging labels of ${awsName} did not settle after ${MAX_LABEL_MOVES} moves (another writer keeps moving them)`);
  }

  /** A secret that exists without our head holds someone else's value unless every labelled version is ours (a crashed first write). */
  #refuseForeign(name: string, awsName: string, observed: Observed): void {
    const foreign = Object.keys(observed).find((id) => !id.startsWith(TOKEN_PREFIX));
    if (foreign) {
      throw new SecretStageError(name, `the AWS secret "${awsName}" exists and was not written by dfns-rotator (its version ${foreign} is not ours); refusing to touch it. Choose another name or store.aws.namePrefix`);
    }
  }

  async #putValue(awsName: string, token: string, text: string): Promise<void> {
    const { sdk } = await this.#open();
    await this.#call('PutSecretValue', awsName, (c) => c.send(new sdk.PutSecretValueCommand({ SecretId: awsName, ClientRequestToken: token, SecretString: text, VersionStages: [WRITE_LABEL] })));
  }

  async #readManifest(awsName: string, head: string, expected: readonly string[] = []): Promise<Manifest> {
    const { sdk } = await this.#open();
    const got = await this.#call('GetSecretValue', awsName, (c) => c.send(new sdk.GetSecretValueCommand({ SecretId: awsName, VersionId: head })), expected);
    return decodeManifest(got.SecretString, `${awsName} version ${head}`);
  }

  /** VersionIdsToStages, or null when there is no such secret. */
  async #describe(awsName: string): Promise<Observed | null> {
    const { sdk } = await this.#open();
    try {
      const d = await this.#call('DescribeSecret', awsName, (c) => c.send(new sdk.DescribeSecretCommand({ SecretId: awsName })), ['ResourceNotFoundException']);
      if (d.DeletedDate) {
        throw new SecretStageError(awsName, `the AWS secret is scheduled for deletion; restore it (aws secretsmanager restore-secret --secret-id ${awsName}) or delete it for good before dfns-rotator writes it again`);
      }
      return d.VersionIdsToStages ?? {};
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return null;
      throw err;
    }
  }

  /**
   * One SDK call, after the SDK's own retries, retried again on throttling, 5xx or network errors
   * with full-jitter backoff: every call here is safe to repeat (tokens, compare-and-set moves).
   * The `expected` errors (not found, exists, a lost label race) reach the caller as the SDK raised
   * them; the rest become project errors (aws-failures.ts).
   */
  async #call<T>(action: string, secretId: string, send: (client: SecretsManagerClient) => Promise<T>, expected: readonly string[] = []): Promise<T> {
    const { client } = await this.#open();
    const retries = this.#options.retries ?? DEFAULT_RETRIES;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send(client);
      } catch (err) {
        const name = errorName(err);
        if (expected.includes(name)) throw err;
        if (!isTransient(err) || attempt > retries) throw mapAwsFailure(err, action, secretId, attempt * (this.#options.sdkMaxAttempts ?? DEFAULT_SDK_ATTEMPTS));
        const delay = fullJitterDelay(attempt, RETRY_BACKOFF, this.#options.random ?? Math.random);
        this.#logger.warn({ action, awsSecret: secretId, error: name, attempt, delayMs: delay }, 'AWS Secrets Manager call failed; retrying');
        await this.#sleep(delay);
      }
    }
  }

  #awsName(name: string): string {
    return `${this.#options.namePrefix}${name}`;
  }

  /** The SDK is loaded on first use, so file-store users never load it. */
  #open(): Promise<{ sdk: Sdk; client: SecretsManagerClient }> {
    this.#ready ??= import('@aws-sdk/client-secrets-manager').then((sdk) => ({
      sdk,
      client: new sdk.SecretsManagerClient({
        region: this.#options.region,
        ...(this.#options.endpoint ? { endpoint: this.#options.endpoint } : {}),
        ...(this.#options.credentials ? { credentials: this.#options.credentials } : {}),
        maxAttempts: this.#options.sdkMaxAttempts ?? DEFAULT_SDK_ATTEMPTS,
        retryMode: 'standard',
      }),
    }));
    return this.#ready;
  }
}
