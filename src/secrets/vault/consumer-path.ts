import type { Logger } from '../../logger.js';
import { canonicalJson } from '../canonical-json.js';
import { CREDENTIAL_FORMAT, toCredentialJson, type CredentialJson } from '../credential-json.js';
import { SecretConflictError, SecretStageError } from '../errors.js';
import { versionWithStage } from '../stages.js';
import type { SecretVersion } from '../types.js';
import type { VaultClient } from './client.js';
import { VaultHttpError } from './errors.js';
import { isCasMismatch, versionOf } from './kv-answer.js';
import type { VaultLayout } from './layout.js';

/**
 * The path consumers read (layout.ts): one KV version per credential that became current, the
 * latest being the current one. It is derived from the record and brought up to date by
 * `publish`, which any daemon may run at any time: idempotent, check-and-set, and never moving
 * the path back to an older record.
 */

export interface PublishedRecord {
  revision: number;
  versions: SecretVersion[];
}

const PUBLISH_ATTEMPTS = 5;

export class ConsumerPath {
  constructor(
    readonly client: VaultClient,
    readonly layout: VaultLayout,
    readonly logger: Logger,
  ) {}

  /** The latest version: its number (0: none) and its JSON (null: none, deleted or destroyed). */
  async read(name: string): Promise<{ version: number; data: Record<string, unknown> | null }> {
    const path = this.layout.data(this.layout.consumerPath(name));
    const answer = await this.client.call('GET', path, 'read');
    const body = answer.body?.data as { data?: Record<string, unknown> | null; metadata?: { version?: unknown } } | undefined;
    if (answer.status === 404) return { version: typeof body?.metadata?.version === 'number' ? body.metadata.version : 0, data: null };
    if (answer.status !== 200) throw new VaultHttpError(answer.status, 'GET', path, answer.errors);
    return { version: versionOf(body?.metadata, path), data: body?.data ?? null };
  }

  /** A new secret must not take over a path that holds something dfns-rotator did not write. */
  async refuseForeign(name: string): Promise<void> {
    const consumer = await this.read(name);
    if (consumer.data && consumer.data.format !== CREDENTIAL_FORMAT) throw this.#foreign(name, 'already holds a secret dfns-rotator did not write; choose another name or move that secret away');
  }

  /**
   * Makes the latest version the record's current credential. `readRecord` re-reads the record
   * after a lost race, so an older state is never written over a newer one.
   */
  async publish(name: string, known: PublishedRecord, readRecord: () => Promise<PublishedRecord | null>): Promise<void> {
    let record: PublishedRecord | null = known;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      record ??= await readRecord();
      if (!record) return;
      const current = versionWithStage(record.versions, 'current');
      if (!current) return;
      const desired = toCredentialJson(current.value, { ...current.metadata, versionId: current.versionId, storeRevision: record.revision });
      const consumer = await this.read(name);
      if (consumer.data) {
        if (consumer.data.format !== CREDENTIAL_FORMAT) throw this.#foreign(name, 'holds a secret dfns-rotator did not write; move it away so the current credential can be published there');
        if (sameCredential(consumer.data, desired)) return;
        const theirs = (consumer.data.metadata as { storeRevision?: unknown } | undefined)?.storeRevision;
        if (typeof theirs === 'number' && theirs > record.revision) {
          // A newer record may exist (its writer publishes it): look again before writing.
          const fresh = await readRecord();
          if (fresh && fresh.revision > record.revision) {
            record = fresh;
            continue;
          }
        }
      }
      const path = this.layout.data(this.layout.consumerPath(name));
      const previous = versionWithStage(record.versions, 'previous');
      if (consumer.version === 0 && previous) {
        // First publication of a record that already has a previous credential (copied from
        // another store): write it first, so "the version before the latest" holds from the start.
        const first = toCredentialJson(previous.value, { ...previous.metadata, versionId: previous.versionId, storeRevision: record.revision });
        const answer = await this.client.call('POST', path, 'create|update', { body: { options: { cas: 0 }, data: first } });
        if (answer.status !== 200 && !isCasMismatch(answer)) throw new VaultHttpError(answer.status, 'POST', path, answer.errors);
        continue;
      }
      const answer = await this.client.call('POST', path, 'create|update', { body: { options: { cas: consumer.version }, data: desired } });
      if (answer.status === 200) {
        this.logger.info({ secretName: name, versionId: current.versionId, vaultVersion: versionOf(answer.body?.data, path) }, 'published the current credential to the consumer path');
        await this.#describe(name, current);
        return;
      }
      if (!isCasMismatch(answer)) throw new VaultHttpError(answer.status, 'POST', path, answer.errors);
      record = null; // lost a race with another publisher: read both again
    }
    throw new SecretConflictError(name, known.revision, null);
  }

  /**
   * With no previous credential left (retired, or never one), the older versions hold only
   * retired credentials: destroy them, so their keys leave Vault as they leave the file store.
   * Call only after `publish` succeeded.
   */
  async destroyRetired(name: string): Promise<void> {
    const consumer = this.layout.consumerPath(name);
    const metaPath = this.layout.metadata(consumer);
    const answer = await this.client.call('GET', metaPath, 'read');
    if (answer.status === 404) return;
    if (answer.status !== 200) throw new VaultHttpError(answer.status, 'GET', metaPath, answer.errors);
    const meta = answer.body?.data as { current_version?: unknown; versions?: Record<string, { destroyed?: unknown }> } | undefined;
    const latest = typeof meta?.current_version === 'number' ? meta.current_version : 0;
    const old = Object.entries(meta?.versions ?? {})
      .filter(([n, v]) => Number(n) < latest && v.destroyed !== true)
      .map(([n]) => Number(n));
    if (old.length === 0) return;
    const path = `${this.layout.mount}/destroy/${consumer}`;
    const destroyed = await this.client.call('POST', path, 'update', { body: { versions: old } });
    if (destroyed.status !== 204 && destroyed.status !== 200) throw new VaultHttpError(destroyed.status, 'POST', path, destroyed.errors);
    this.logger.info({ secretName: name, versions: old }, 'destroyed retired credentials in the consumer path history');
  }

  /**
   * Non-secret facts for people browsing Vault (its UI shows custom metadata): who manages the
   * path, where the record is, when the current credential expires; and `cas_required`, so a
   * hand-made write without check-and-set is refused. Best effort: consumers do not need it.
   */
  async #describe(name: string, current: SecretVersion): Promise<void> {
    const path = this.layout.metadata(this.layout.consumerPath(name));
    const custom: Record<string, string> = {
      'managed-by': 'dfns-rotator',
      record: `${this.layout.mount}/${this.layout.recordPath(name)}`,
      'version-id': String(current.versionId),
      'expires-at': current.value.expiresAt ?? 'unknown',
    };
    if (current.value.credentialId) custom['credential-id'] = current.value.credentialId;
    const answer = await this.client.call('POST', path, 'create|update', { body: { cas_required: true, custom_metadata: custom } }).catch((err: Error) => err);
    if (answer instanceof Error || (answer.status !== 204 && answer.status !== 200)) {
      this.logger.warn({ secretName: name, err: answer instanceof Error ? answer.message : `status ${answer.status}` }, 'could not update the consumer path custom_metadata (informational only)');
    }
  }

  #foreign(name: string, problem: string): SecretStageError {
    return new SecretStageError(name, `${this.layout.mount}/data/${this.layout.consumerPath(name)} ${problem}`);
  }
}

/** Equal credential JSON, ignoring which record revision published it (Vault re-orders keys). */
function sameCredential(stored: Record<string, unknown>, desired: CredentialJson): boolean {
  const strip = (c: Record<string, unknown>) => {
    const { storeRevision: _r, ...metadata } = (c.metadata ?? {}) as Record<string, unknown>;
    return canonicalJson({ ...c, metadata });
  };
  return strip(stored) === strip(desired as Record<string, unknown>);
}
