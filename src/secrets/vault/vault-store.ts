import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { realSleep, systemClock, type Clock, type Sleep } from '../../clock.js';
import type { VaultStoreConfig } from '../../config/types.js';
import { ConfigError, describeError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { SecretConflictError, SecretCorruptError, SecretNameError } from '../errors.js';
import { checkSecretName } from '../file-names.js';
import { checkVersionsForWrite, parseStoredRecord } from '../record-schema.js';
import { versionWithStage } from '../stages.js';
import type { SecretRecord, SecretStore, SecretSummary, SecretVersion } from '../types.js';
import { VaultClient } from './client.js';
import { ConsumerPath } from './consumer-path.js';
import { VaultHttpError, VaultPublishError } from './errors.js';
import { VaultHttp } from './http.js';
import { isCasMismatch, versionOf } from './kv-answer.js';
import { VaultLayout } from './layout.js';
import { VaultSession } from './session.js';
import { mapLimited } from '../map-limited.js';

/**
 * The HashiCorp Vault KV v2 store. Layout in layout.ts. How the port maps onto Vault:
 *
 * - `put` is one check-and-set write of the record path (`options.cas` = the expected revision,
 *   0 for a new secret): the commit point, atomic as the port requires. Then the consumer path is
 *   brought up to date (a new KV version when the current credential changed, itself
 *   check-and-set).
 * - A crash or an error between the two writes leaves the record committed and the consumer path
 *   one credential behind, which is the state before the promote: still readable, still valid.
 *   An error makes `put` throw VaultPublishError (retryable) so the caller's step is retried
 *   instead of going on to announce and retire; a crash leaves the step unfinished. Every `get`
 *   and `put` repairs a lagging consumer path, on any daemon, so that state always completes, and
 *   a promote is finished only once consumers see the new credential. A consumer path is never
 *   moved backwards: its JSON carries the record revision it came from (`metadata.storeRevision`).
 * - A write whose answer was lost (5xx after Vault applied it) is recognised on retry by the
 *   write id stored with the record, so it is not reported as a conflict.
 *
 * Bookkeeping lives in the record, not in KV `custom_metadata`: custom metadata is written by a
 * separate request without check-and-set and is limited to 64 short strings, so it can neither
 * hold the pending credential nor be the compare-and-set token of a whole record.
 */

export interface VaultSecretStoreOptions extends Omit<VaultStoreConfig, 'kind'> {
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
  /** Test seam for crash tests: called after the record write, before the consumer path is updated. */
  onWriteStep?: (step: 'record-written') => Promise<void> | void;
  /** HTTP attempts per call (retrying 5xx/429), default 5. */
  attempts?: number;
  timeoutMs?: number;
}

export const VAULT_RECORD_FORMAT = 'dfns-rotator/vault-record/v1';
const LIST_CONCURRENCY = 16;
/** Enough for a retried write to recognise its own version (see put). */
const RECORD_VERSIONS_KEPT = 3;

interface StoredRecord {
  revision: number;
  versions: SecretVersion[];
  writeId: string | null;
}

export class VaultSecretStore implements SecretStore {
  readonly description: string;
  readonly #layout: VaultLayout;
  readonly #client: VaultClient;
  readonly #consumer: ConsumerPath;
  readonly #logger: Logger;
  readonly #onWriteStep: VaultSecretStoreOptions['onWriteStep'];

  constructor(options: VaultSecretStoreOptions) {
    const logger = options.logger ?? silentLogger;
    let ca: string | null = null;
    if (options.caFile) {
      try {
        ca = readFileSync(options.caFile, 'utf8');
      } catch (err) {
        throw new ConfigError([`store.vault.caFile: cannot read ${options.caFile} (${(err as NodeJS.ErrnoException).code ?? describeError(err)}); set VAULT_CACERT or store.vault.caFile to the PEM of Vault's CA`]);
      }
    }
    const http = new VaultHttp({
      address: options.address, namespace: options.namespace, ca, sleep: options.sleep ?? realSleep,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const session = new VaultSession(options.auth, http, options.clock ?? systemClock, logger);
    this.#client = new VaultClient(http, session, options.namespace);
    this.#layout = new VaultLayout(options.mount, options.pathPrefix);
    this.#consumer = new ConsumerPath(this.#client, this.#layout, logger);
    this.#logger = logger;
    this.#onWriteStep = options.onWriteStep;
    this.description = `vault:${options.address}/v1/${options.mount}/data/${options.pathPrefix}${options.namespace ? ` (namespace ${options.namespace})` : ''}`;
  }

  /** Revokes the login token (AppRole, Kubernetes); a configured token is left alone. */
  async close(): Promise<void> {
    await this.#client.session.close();
  }

  async list(): Promise<SecretSummary[]> {
    const names = await this.#listNames(this.#layout.recordFolder(), '');
    const summaries = await mapLimited(names, LIST_CONCURRENCY, async (name) => {
      const record = await this.#readRecord(name);
      if (!record) return null;
      return {
        name,
        revision: record.revision,
        versions: record.versions.map((v) => ({ versionId: v.versionId, stages: [...v.stages], metadata: { ...v.metadata }, kind: v.value.kind, name: v.value.name })),
      };
    });
    return summaries.filter((s): s is SecretSummary => s !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<SecretRecord | null> {
    checkName(name);
    const record = await this.#readRecord(name);
    if (!record) return null;
    await this.#consumer.publish(name, record, () => this.#readRecord(name));
    return { name, revision: record.revision, versions: record.versions };
  }

  async put(name: string, versions: SecretVersion[], expectedRevision: number | null): Promise<number> {
    checkName(name);
    checkVersionsForWrite(name, versions);
    if (expectedRevision === null) {
      await this.#consumer.refuseForeign(name);
      await this.#limitRecordHistory(name);
    }
    const writeId = randomUUID();
    const path = this.#layout.data(this.#layout.recordPath(name));
    const answer = await this.#client.call('POST', path, 'create|update', {
      body: { options: { cas: expectedRevision ?? 0 }, data: { format: VAULT_RECORD_FORMAT, name, writeId, versions } },
    });
    let revision: number;
    if (answer.status === 200) revision = versionOf(answer.body?.data, path);
    else if (isCasMismatch(answer)) {
      // Our own earlier attempt may have landed with its answer lost; then this is no conflict.
      const landed = await this.#readRecord(name, (expectedRevision ?? 0) + 1).catch(() => null);
      if (landed?.writeId !== writeId) {
        const actual = await this.#currentRevision(name);
        throw new SecretConflictError(name, expectedRevision, actual);
      }
      revision = landed.revision;
    } else throw new VaultHttpError(answer.status, 'POST', path, answer.errors);
    await this.#onWriteStep?.('record-written');
    try {
      await this.#consumer.publish(name, { revision, versions }, () => this.#readRecord(name));
    } catch (err) {
      // Fail the caller's step (retryably) rather than let a rotation go on while consumers
      // still read the old credential: its retirement would cut them off.
      throw new VaultPublishError(name, revision, err);
    }
    if (!versionWithStage(versions, 'previous')) {
      await this.#consumer.destroyRetired(name).catch((err: unknown) => {
        this.#logger.warn({ secretName: name, err: describeError(err) }, 'could not destroy retired credentials in the consumer path history; the next write retries');
      });
    }
    return revision;
  }

  /**
   * A new record keeps only its last few KV versions (older ones hold retired keys) and refuses
   * writes without check-and-set, so a hand-made `vault kv put` cannot clobber it by accident.
   */
  async #limitRecordHistory(name: string): Promise<void> {
    const path = this.#layout.metadata(this.#layout.recordPath(name));
    const answer = await this.#client.call('POST', path, 'create|update', { body: { max_versions: RECORD_VERSIONS_KEPT, cas_required: true } });
    if (answer.status !== 204 && answer.status !== 200) throw new VaultHttpError(answer.status, 'POST', path, answer.errors);
  }

  /** Keys under `folder`, recursively: `sub/` entries are folders (names are paths like `payments/api`). */
  async #listNames(folder: string, relative: string): Promise<string[]> {
    const path = this.#layout.metadata(folder + relative);
    // GET ?list=true is Vault's documented equivalent of the LIST verb, which proxies (and Node's HTTP parser) may not pass.
    const answer = await this.#client.call('GET', path, 'list', { query: 'list=true' });
    if (answer.status === 404) return [];
    if (answer.status !== 200) throw new VaultHttpError(answer.status, 'LIST', path, answer.errors);
    const keys = (answer.body?.data as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys)) throw new SecretCorruptError(path, 'the LIST answer has no keys');
    const out: string[] = [];
    for (const key of keys) {
      if (typeof key !== 'string') continue;
      if (key.endsWith('/')) out.push(...(await this.#listNames(folder, relative + key)));
      else out.push(relative + key);
    }
    return out;
  }

  async #readRecord(name: string, version?: number): Promise<StoredRecord | null> {
    const path = this.#layout.data(this.#layout.recordPath(name));
    const answer = await this.#client.call('GET', path, 'read', version === undefined ? {} : { query: `version=${version}` });
    const where = `vault ${path}`;
    if (answer.status === 404) {
      const meta = (answer.body?.data as { metadata?: { version?: unknown; destroyed?: unknown; deletion_time?: unknown } } | undefined)?.metadata;
      // Metadata without a version (created ahead of the first write) is a secret not written yet.
      const gone = meta?.destroyed === true || (typeof meta?.deletion_time === 'string' && meta.deletion_time !== '');
      if (version === undefined && typeof meta?.version === 'number' && meta.version > 0 && gone) {
        throw new SecretCorruptError(where, `its latest version ${meta.version} was ${meta.destroyed ? 'destroyed' : 'deleted'} in Vault; ${meta.destroyed ? 'write the record back with `npx dfns-rotator store copy`' : `undelete it (vault kv undelete -mount=${this.#layout.mount} -versions=${meta.version} ${this.#layout.recordPath(name)})`}`);
      }
      return null;
    }
    if (answer.status !== 200) throw new VaultHttpError(answer.status, 'GET', path, answer.errors);
    const body = answer.body?.data as { data?: Record<string, unknown>; metadata?: unknown } | undefined;
    const data = body?.data;
    if (!data || data.format !== VAULT_RECORD_FORMAT) throw new SecretCorruptError(where, `not a dfns-rotator record (format ${JSON.stringify(data?.format ?? null)})`);
    const revision = versionOf(body.metadata, path);
    const record = parseStoredRecord({ name: data.name, revision, versions: data.versions }, where);
    if (record.name !== name) throw new SecretCorruptError(where, `the record is named "${record.name}", not "${name}"`);
    return { revision, versions: record.versions, writeId: typeof data.writeId === 'string' ? data.writeId : null };
  }

  async #currentRevision(name: string): Promise<number | null> {
    const path = this.#layout.metadata(this.#layout.recordPath(name));
    const answer = await this.#client.call('GET', path, 'read');
    if (answer.status === 404) return null;
    const current = (answer.body?.data as { current_version?: unknown } | undefined)?.current_version;
    return typeof current === 'number' && current > 0 ? current : null;
  }
}

/** Vault paths cannot hold empty segments; the port's name rule allows `a//b` and `a/`. */
function checkName(name: string): void {
  checkSecretName(name);
  if (name.includes('//') || name.endsWith('/')) throw new SecretNameError(name);
}


