import { constants } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { systemClock, realSleep, type Clock, type Sleep } from '../clock.js';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { ensurePrivateDir, octal, writeFileAtomic, FILE_MODE, type AtomicWriteOptions } from './atomic-write.js';
import { SecretConflictError, SecretCorruptError, SecretKeyError, SecretLockError, SecretNameError, SecretPermissionError } from './errors.js';
import { FileCipher } from './file-crypto.js';
import { acquireLock, processIdentity, processIsAlive, tryAcquireLock, type LockOptions } from './file-lock.js';
import { checkSecretName, isSecretName, classifyEntry, dataFileName, lockFileName, tempFileName } from './file-names.js';
import { checkVersionsForWrite, parseStoredRecord } from './record-schema.js';
import type { SecretRecord, SecretStore, SecretSummary, SecretVersion, StoreListing, UnreadableSecret } from './types.js';
import { cliCommand } from '../cli-name.js';
import { mapLimited } from './map-limited.js';

export interface FileSecretStoreOptions {
  dir: string;
  /** 32 bytes; see `parseStoreKey`. */
  key: Buffer;
  /** Create the folder (mode 0700) when it is missing. Default true; false makes a missing folder (an unmounted volume) an error. */
  createDir?: boolean;
  logger?: Logger;
  clock?: Clock;
  sleep?: Sleep;
  lock?: Partial<Pick<LockOptions, 'staleMs' | 'retryMs' | 'maxWaitMs'>>;
  /** Test seam for crash tests: called at each step of a write. */
  onWriteStep?: AtomicWriteOptions['onStep'];
}

/** A write takes milliseconds; 30 s only passes for a hung or vanished owner. Waiting longer than that lets a single put outlast one stale lock. */
export const DEFAULT_LOCK = { staleMs: 30_000, retryMs: 25, maxWaitMs: 45_000 } as const;

/** Files decrypted at once by `list`: enough to overlap I/O, few enough to bound memory and file handles. */
const LIST_CONCURRENCY = 32;

// O_NOFOLLOW: a data file replaced by a symlink is refused rather than followed (Linux, macOS).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * The default secret store: one AES-256-GCM encrypted file per secret in a private folder (see
 * file-names.ts for the layout and file-crypto.ts for the format). Writes are compare-and-set
 * across processes on the host (a lock file per secret) and atomic (temp file, fsync, rename).
 *
 * Permissions: files are written 0600 and the folder kept 0700. A file or folder found readable by
 * others is fixed and a warning logged (the credential may have been exposed and should be
 * rotated); refusing to read would stop rotations and let tokens lapse. A file system that ignores
 * permissions is refused on write.
 */
export class FileSecretStore implements SecretStore {
  readonly description: string;
  readonly #dir: string;
  readonly #cipher: FileCipher;
  readonly #createDir: boolean;
  readonly #logger: Logger;
  readonly #lockOptions: LockOptions;
  readonly #onWriteStep: AtomicWriteOptions['onStep'];
  #ready: Promise<void> | null = null;

  constructor(options: FileSecretStoreOptions) {
    this.#dir = resolve(options.dir);
    this.description = `file:${this.#dir}`;
    this.#cipher = new FileCipher(options.key);
    this.#createDir = options.createDir ?? true;
    this.#logger = options.logger ?? silentLogger;
    this.#onWriteStep = options.onWriteStep;
    this.#lockOptions = {
      ...DEFAULT_LOCK,
      ...options.lock,
      sleep: options.sleep ?? realSleep,
      clock: options.clock ?? systemClock,
      logger: this.#logger,
      host: processIdentity(),
      pid: process.pid,
      isAlive: processIsAlive,
    };
  }

  async list(): Promise<SecretSummary[]> {
    const { summaries, unreadable } = await this.listReadable();
    if (unreadable.length > 0) throw unreadable[0]!.error;
    return summaries;
  }

  async listReadable(): Promise<StoreListing> {
    await this.#open();
    const entries = (await readdir(this.#dir)).map((file) => ({ file, entry: classifyEntry(file) }));
    const leftovers = entries.filter((e) => e.entry.type === 'temp').map((e) => e.file);
    if (leftovers.length > 0) await this.#removeLeftovers(leftovers);
    const files = entries.flatMap(({ file, entry }) => (entry.type === 'data' ? [{ file, name: entry.name }] : []));
    const unreadable: UnreadableSecret[] = [];
    const summaries = await mapLimited(files, LIST_CONCURRENCY, async ({ file, name }) => {
      const where = join(this.#dir, file);
      try {
        checkSecretName(name);
      } catch (err) {
        if (!(err instanceof SecretNameError)) throw err;
        unreadable.push({ name: file, where, error: new SecretCorruptError(where, 'the file name does not decode to a valid secret name') });
        return null;
      }
      try {
        const record = await this.#read(name);
        if (!record) return null; // replaced or removed between readdir and open
        return summarize(record);
      } catch (err) {
        // Damage confined to this file; anything else (the folder unreadable, EIO) fails the listing.
        if (err instanceof SecretCorruptError || err instanceof SecretKeyError) {
          unreadable.push({ name, where, error: err });
          return null;
        }
        throw err;
      }
    });
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { summaries: summaries.filter((s): s is SecretSummary => s !== null).sort(byName), unreadable: unreadable.sort(byName) };
  }

  async get(name: string): Promise<SecretRecord | null> {
    checkSecretName(name);
    await this.#open();
    return this.#read(name);
  }

  async put(name: string, versions: SecretVersion[], expectedRevision: number | null): Promise<number> {
    checkSecretName(name);
    checkVersionsForWrite(name, versions);
    await this.#open();
    const lockPath = join(this.#dir, lockFileName(name));
    const lock = await acquireLock(lockPath, this.#lockOptions);
    try {
      const current = await this.#read(name);
      const actual = current?.revision ?? null;
      if (actual !== expectedRevision) throw new SecretConflictError(name, expectedRevision, actual);
      const record: SecretRecord = { name, revision: (actual ?? 0) + 1, versions };
      const sealed = this.#cipher.seal(name, Buffer.from(JSON.stringify(record), 'utf8'));
      await writeFileAtomic(join(this.#dir, dataFileName(name)), join(this.#dir, tempFileName(name)), sealed, {
        onStep: this.#onWriteStep,
        beforeCommit: async () => {
          if (!(await lock.stillHeld())) throw new SecretLockError(lockPath, 'lost the lock before committing (another process judged it stale); nothing was written');
        },
      });
      return record.revision;
    } finally {
      await lock.release();
    }
  }

  /** Null when the secret has no file. */
  async #read(name: string): Promise<SecretRecord | null> {
    const path = join(this.#dir, dataFileName(name));
    let handle;
    try {
      handle = await open(path, READ_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'ELOOP') throw new SecretCorruptError(path, 'the file is a symbolic link; refusing to follow it');
      throw err;
    }
    let contents: Buffer;
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new SecretCorruptError(path, 'not a regular file');
      if (info.mode & 0o077) {
        this.#logger.warn({ file: path, mode: octal(info.mode) }, 'secret file was accessible to other users; setting it to 0600. Treat its credential as possibly exposed and rotate it');
        await handle.chmod(FILE_MODE).catch((err: Error) => {
          throw new SecretPermissionError(path, `is mode ${octal(info.mode)} and cannot be set to 0600 (${(err as NodeJS.ErrnoException).code ?? err.message})`);
        });
      }
      contents = await handle.readFile();
    } finally {
      await handle.close();
    }
    const plaintext = this.#cipher.open(name, contents, path);
    let data: unknown;
    try {
      data = JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new SecretCorruptError(path, 'the decrypted record is not JSON');
    }
    const record = parseStoredRecord(data, path);
    if (record.name !== name) throw new SecretCorruptError(path, `the record is named "${record.name}", not "${name}"`);
    return record;
  }

  /** Folder checks once per store object; retried after a failure. */
  #open(): Promise<void> {
    this.#ready ??= this.#prepare().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  async #prepare(): Promise<void> {
    if (!this.#createDir) {
      const info = await stat(this.#dir).catch(() => null);
      if (!info?.isDirectory()) throw new ConfigError([`store.dir: ${this.#dir} does not exist or is not a folder (is the volume mounted? run \`${cliCommand('init')}\` to create a store)`]);
    }
    const widened = await ensurePrivateDir(this.#dir);
    if (widened !== null) {
      this.#logger.warn({ dir: this.#dir, mode: octal(widened) }, 'secret store folder was accessible to other users; set it to 0700');
    }
  }

  /**
   * Temp files are only written under the secret's lock and are gone (renamed or removed) before
   * it is released, so one seen while we hold the lock is a crash leftover. Busy locks are skipped.
   */
  async #removeLeftovers(files: string[]): Promise<void> {
    const byName = new Map<string, string[]>();
    for (const file of files) {
      const entry = classifyEntry(file);
      if (entry.type !== 'temp') continue;
      byName.set(entry.name, [...(byName.get(entry.name) ?? []), file]);
    }
    for (const [name, temps] of byName) {
      if (!isSecretName(name)) continue;
      const lock = await tryAcquireLock(join(this.#dir, lockFileName(name)), this.#lockOptions);
      if (!lock) continue;
      try {
        for (const file of temps) await unlink(join(this.#dir, file)).catch(() => undefined);
        this.#logger.info({ secretName: name, files: temps.length }, 'removed temp files left by an interrupted secret write');
      } finally {
        await lock.release();
      }
    }
  }
}

function summarize(record: SecretRecord): SecretSummary {
  return {
    name: record.name,
    revision: record.revision,
    versions: record.versions.map((v) => ({ versionId: v.versionId, stages: [...v.stages], metadata: { ...v.metadata }, kind: v.value.kind, name: v.value.name })),
  };
}
