import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretKeyError } from '../../src/secrets/errors.js';
import { FileSecretStore } from '../../src/secrets/file-store.js';
import { generateStoreKey, storeKeyToText } from '../../src/secrets/store-key.js';
import { bigKeyPem, bigVersion, counterVersion } from '../fixtures/file-store-records.js';
import { LineChild } from '../helpers/line-child.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * Done-when for the file store: it survives a process killed mid-write (the old version stays
 * readable), refuses a wrong key with a clear error, and its files are 0600. Writers here are real
 * child processes killed with SIGKILL; the test follows them through the lines they print.
 */

const SECRET = 'payments/api-bot';
const DATA_FILE = 'payments~api-bot.secret';

describe('file store under crashes and concurrent processes', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dir: string;
  const key = generateStoreKey();
  const children: LineChild[] = [];

  const child = (env: Record<string, string>): LineChild => {
    const c = new LineChild('file-store-child.ts', { STORE_DIR: dir, STORE_KEY: key.toString('hex'), SECRET, ...env });
    children.push(c);
    return c;
  };
  const openStore = () => new FileSecretStore({ dir, key });

  beforeEach(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.path, 'store');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await tmp.remove();
  });

  /** The record reads back whole and is the one for its revision. */
  async function expectIntact(store: FileSecretStore, revisions: number[]): Promise<number> {
    const record = await store.get(SECRET);
    expect(record).not.toBeNull();
    const revision = record!.revision;
    expect(revisions).toContain(revision);
    expect(record!.versions).toHaveLength(1);
    expect(record!.versions[0]!.value.accessToken).toBe(`token-for-revision-${revision}`);
    // compare without letting a 1 MiB diff into the output
    expect(record!.versions[0]!.value.privateKeyPem === bigKeyPem(revision)).toBe(true);
    return revision;
  }

  async function tempFiles(): Promise<string[]> {
    return (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
  }

  it('keeps the last completed write readable when the writer is killed at points across the write cycle', async () => {
    const store = openStore();
    // Each round kills on a different progress line, so the kill lands in a different phase
    // (reading, half-way through the temp file, around the rename, at the start of the next
    // write). The next writer resumes from whatever the store holds, breaking the dead writer's lock.
    const rounds: [RegExp, number][] = [
      [/^wrote \d+$/, 1],
      [/^step temp-partial$/, 2],
      [/^step temp-written$/, 2],
      [/^step renamed$/, 3],
      [/^step temp-partial$/, 1],
    ];
    for (const [line, count] of rounds) {
      const before = (await store.get(SECRET))?.revision ?? 0;
      const writer = child({ MODE: 'write-loop' });
      await writer.waitForCount(line, count);
      await writer.kill();
      const completed = writer.lines.filter((l) => l.startsWith('wrote ')).length;
      // the kill may land after a rename but before its `wrote` line
      await expectIntact(store, [before + completed, before + completed + 1]);
      expect((await store.list()).map((s) => s.name)).toEqual([SECRET]);
      expect(await tempFiles()).toEqual([]);
    }
  });

  it.each(['temp-partial', 'temp-written'] as const)('keeps the old version when killed at %s, before the rename', async (step) => {
    const store = openStore();
    expect(await store.put(SECRET, [bigVersion(1)], null)).toBe(1);

    const writer = child({ MODE: 'pause', PAUSE_AT: step });
    const paused = await writer.waitForLine(new RegExp(`^paused ${step} `));
    const tempPath = paused.split(' ')[2]!;
    expect((await stat(tempPath)).size).toBeGreaterThan(step === 'temp-partial' ? 100_000 : 1_000_000);
    await writer.kill();

    // part or all of the new record sits in a temp file, yet the store serves the old one
    expect(await tempFiles()).toHaveLength(1);
    await expectIntact(store, [1]);
    expect(await store.list()).toMatchObject([{ name: SECRET, revision: 1 }]);
    expect(await tempFiles()).toEqual([]);
    // the dead writer's lock is broken and writing goes on from the old revision
    expect(await store.put(SECRET, [bigVersion(2)], 1)).toBe(2);
    await expectIntact(store, [2]);
  });

  it('keeps the new version when killed right after the rename', async () => {
    const store = openStore();
    await store.put(SECRET, [bigVersion(1)], null);
    const writer = child({ MODE: 'pause', PAUSE_AT: 'renamed' });
    await writer.waitForLine(/^paused renamed /);
    await writer.kill();
    await expectIntact(store, [2]);
    expect(await tempFiles()).toEqual([]);
  });

  it('refuses a wrong key with a clear error naming the file and holding no key material', async () => {
    const writer = child({ MODE: 'write-loop' });
    await writer.waitForCount(/^wrote/, 1);
    await writer.kill();

    const wrongKey = generateStoreKey();
    const wrong = new FileSecretStore({ dir, key: wrongKey });
    const err = await wrong.get(SECRET).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SecretKeyError);
    const message = (err as Error).message;
    expect(message).toContain(join(dir, DATA_FILE));
    expect(message).toMatch(/wrong key: the file was written with key id [0-9a-f]{8}, the configured key has id [0-9a-f]{8}/);
    for (const k of [key, wrongKey]) {
      for (const form of [k.toString('hex'), storeKeyToText(k), k.toString('base64url')]) {
        expect(message).not.toContain(form);
        expect(message).not.toContain(form.slice(0, 12));
      }
    }
    expect(message).not.toContain('token-for-revision');
    await expect(wrong.list()).rejects.toBeInstanceOf(SecretKeyError);
  });

  it('keeps every file 0600 and the folder 0700, including files written by other processes', async () => {
    const writer = child({ MODE: 'pause', PAUSE_AT: 'temp-written' });
    await writer.waitForLine(/^paused/);
    const files = await readdir(dir);
    // the child's lock file and temp file, while it is mid-write
    expect(files.some((f) => f.endsWith('.lock'))).toBe(true);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(true);
    for (const f of files) expect(((await stat(join(dir, f))).mode & 0o777).toString(8), f).toBe('600');
    await writer.kill();

    const store = openStore();
    await store.put(SECRET, [bigVersion(1)], null);
    await store.put('other/secret', [counterVersion(0)], null);
    const after = await readdir(dir);
    expect(after.filter((f) => f.endsWith('.secret')).sort()).toEqual(['other~secret.secret', DATA_FILE]);
    for (const f of after) expect(((await stat(join(dir, f))).mode & 0o777).toString(8), f).toBe('600');
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
  });

  it('lets exactly one of two processes win a compare-and-set on the same revision', async () => {
    const store = openStore();
    await store.put(SECRET, [counterVersion(0)], null);
    const a = child({ MODE: 'cas-once', WRITER: 'writer-a' });
    const b = child({ MODE: 'cas-once', WRITER: 'writer-b' });
    // both have read revision 1 before either writes
    await Promise.all([a.waitForLine(/^read 1$/), b.waitForLine(/^read 1$/)]);
    a.send('go');
    b.send('go');
    const results = await Promise.all([a, b].map((c) => c.waitForLine(/^(ok \d+|conflict)$/)));
    expect([...results].sort()).toEqual(['conflict', 'ok 2']);
    const winner = results[0] === 'ok 2' ? 'writer-a' : 'writer-b';
    const final = await store.get(SECRET);
    expect(final?.revision).toBe(2);
    expect(final?.versions[0]?.value.name).toBe(winner);
  });

  it('loses no update when two processes increment the same secret concurrently', async () => {
    const store = openStore();
    await store.put(SECRET, [counterVersion(0)], null);
    const count = 40;
    const writers = [child({ MODE: 'increment', COUNT: String(count) }), child({ MODE: 'increment', COUNT: String(count) })];
    await Promise.all(writers.map((w) => w.waitForLine(/^done \d+$/)));
    const final = await store.get(SECRET);
    expect(final?.versions[0]?.metadata.createdAt).toBe(2 * count);
    expect(final?.revision).toBe(2 * count + 1);
  });
});
