import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { SecretCorruptError, SecretKeyError } from '../../src/secrets/errors.js';
import { FileCipher } from '../../src/secrets/file-crypto.js';
import { FileSecretStore } from '../../src/secrets/file-store.js';
import { generateStoreKey } from '../../src/secrets/store-key.js';
import { makeVersion } from '../fixtures/managed-secret.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The file store's on-disk behaviour: format, tampering, permissions, layout. */
describe('file store files', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dir: string;
  let store: FileSecretStore;
  let logLines: string[];
  const key = generateStoreKey();
  const file = (name: string) => join(dir, `${name.replaceAll('/', '~')}.secret`);

  beforeEach(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.path, 'store');
    logLines = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    store = new FileSecretStore({ dir, key, logger });
  });
  afterEach(() => tmp.remove());

  async function failure(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (err: unknown) => err as Error,
    );
  }

  /** Writes a file as the store would, with any plaintext, to test what reading does with it. */
  async function writeSealed(name: string, plaintext: unknown, envelopeEdit: (e: Record<string, unknown>) => void = () => undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const sealed = JSON.parse(new FileCipher(key).seal(name, Buffer.from(JSON.stringify(plaintext))).toString('utf8')) as Record<string, unknown>;
    envelopeEdit(sealed);
    await writeFile(file(name), JSON.stringify(sealed), { mode: 0o600 });
  }

  it('maps names with slashes to flat files inside the folder', async () => {
    await store.put('team/payments/bot', [makeVersion(1, ['current'])], null);
    await store.put('team/payments', [makeVersion(1, ['current'])], null);
    expect((await readdir(dir)).sort()).toEqual(['team~payments.secret', 'team~payments~bot.secret']);
  });

  it('stores nothing readable in clear: no token, no key, no metadata', async () => {
    await store.put('a', [makeVersion(1, ['current'], { accessToken: 'eyJ-clear-token' }, { rotationId: 'rot-clear' })], null);
    const raw = await readFile(file('a'), 'utf8');
    for (const clear of ['eyJ-clear-token', 'PRIVATE KEY', 'rot-clear', 'service-account']) expect(raw).not.toContain(clear);
    expect(JSON.parse(raw)).toMatchObject({ format: 'dfns-rotator/secret', v: 1, name: 'a', keyId: expect.stringMatching(/^[0-9a-f]{8}$/) });
  });

  it.each<[string, (raw: Buffer) => Buffer, RegExp]>([
    ['an empty file', () => Buffer.alloc(0), /is corrupt: the file is empty/],
    ['a truncated file', (raw) => raw.subarray(0, raw.length >> 1), /is corrupt: not a dfns-rotator secret envelope \(unparseable, \d+ bytes: truncated\?\)/],
    ['a file of another format', () => Buffer.from('{"hello":"world"}'), /is corrupt: bad envelope field "format"/],
    ['an envelope with a bad IV', (raw) => Buffer.from(JSON.stringify({ ...JSON.parse(raw.toString()), iv: 'AAAA' })), /bad envelope field "iv": expected 12 bytes/],
    ['a future format', (raw) => Buffer.from(JSON.stringify({ ...JSON.parse(raw.toString()), v: 2 })), /written in format v2 by a newer dfns-rotator/],
  ])('refuses %s with SecretCorruptError naming the file', async (_, damage, message) => {
    await store.put('a/b', [makeVersion(1, ['current'])], null);
    await writeFile(file('a/b'), damage(await readFile(file('a/b'))));
    const err = await failure(store.get('a/b'));
    expect(err).toBeInstanceOf(SecretCorruptError);
    expect(err.message).toContain(file('a/b'));
    expect(err.message).toMatch(message);
    // list fails too: a damaged secret never looks like a missing one
    await expect(store.list()).rejects.toBeInstanceOf(SecretCorruptError);
  });

  it('never overwrites a secret it cannot decrypt (a daemon started with the wrong key)', async () => {
    await store.put('a', [makeVersion(1, ['current'], { accessToken: 'original' })], null);
    const wrong = new FileSecretStore({ dir, key: generateStoreKey() });
    await expect(wrong.put('a', [makeVersion(1, ['current'])], 1)).rejects.toBeInstanceOf(SecretKeyError);
    await expect(wrong.put('a', [makeVersion(1, ['current'])], null)).rejects.toBeInstanceOf(SecretKeyError);
    expect((await store.get('a'))?.versions[0]?.value.accessToken).toBe('original');
    expect(await readdir(dir)).toEqual(['a.secret']);
  });

  it('refuses modified ciphertext with SecretKeyError saying the key id matched', async () => {
    await store.put('a', [makeVersion(1, ['current'])], null);
    const env = JSON.parse(await readFile(file('a'), 'utf8')) as { data: string };
    const data = Buffer.from(env.data, 'base64');
    data[10] = data[10]! ^ 1;
    await writeFile(file('a'), JSON.stringify({ ...env, data: data.toString('base64') }));
    const err = await failure(store.get('a'));
    expect(err).toBeInstanceOf(SecretKeyError);
    expect(err.message).toMatch(/authentication failed although the key id matches .*: the file was modified or damaged/);
  });

  it('refuses a file copied onto another secret, even with its clear-text name edited', async () => {
    await store.put('payments/bot', [makeVersion(1, ['current'], { accessToken: 'payments-token' })], null);
    await store.put('treasury/bot', [makeVersion(1, ['current'])], null);
    await copyFile(file('payments/bot'), file('treasury/bot'));
    expect((await failure(store.get('treasury/bot'))).message).toMatch(/holds secret "payments\/bot", not "treasury\/bot" \(renamed or copied over\?\)/);

    const env = JSON.parse(await readFile(file('payments/bot'), 'utf8')) as Record<string, unknown>;
    await writeFile(file('treasury/bot'), JSON.stringify({ ...env, name: 'treasury/bot' }));
    // the name is authenticated data: the edit is detected
    const err = await failure(store.get('treasury/bot'));
    expect(errorCode(err)).toBe('SECRET_KEY_MISMATCH');
    expect(err.message).not.toContain('payments-token');
  });

  it('names the missing field of a decrypted record, without any value', async () => {
    const v = makeVersion(1, ['current'], { accessToken: 'eyJ-must-not-appear' });
    const { privateKeyPem: _, ...withoutKey } = v.value;
    await writeSealed('a', { name: 'a', revision: 3, versions: [{ ...v, value: withoutKey }] });
    const err = await failure(store.get('a'));
    expect(err).toBeInstanceOf(SecretCorruptError);
    expect(err.message).toMatch(/versions\[0\]\.value\.privateKeyPem: Invalid input: expected string, received undefined/);
    expect(err.message).not.toContain('eyJ-must-not-appear');

    await writeSealed('b', { name: 'b', versions: [] });
    expect((await failure(store.get('b'))).message).toMatch(/corrupt: revision: /);
    await writeSealed('c', { name: 'c', revision: 1, versions: [makeVersion(1, ['current']), makeVersion(2, ['current'])] });
    expect((await failure(store.get('c'))).message).toMatch(/stage "current" is on versions 1 and 2/);
  });

  it('loads a record and envelope with fields from a newer version', async () => {
    const v = makeVersion(1, ['current']);
    await writeSealed('a', { name: 'a', revision: 4, labels: ['x'], versions: [{ ...v, value: { ...v.value, region: 'eu' } }] }, (e) => {
      e.compression = 'none';
    });
    const rec = await store.get('a');
    expect(rec?.revision).toBe(4);
    expect(rec?.versions[0]?.value.accessToken).toBe(v.value.accessToken);
    expect(await store.put('a', rec!.versions, 4)).toBe(5);
  });

  it('ignores files that are not its own and refuses a symlink in place of a secret', async () => {
    await store.put('a', [makeVersion(1, ['current'])], null);
    await writeFile(join(dir, 'README.md'), 'hello');
    await writeFile(join(dir, 'notes.txt.bak'), 'x');
    await mkdir(join(dir, 'sub'));
    expect((await store.list()).map((s) => s.name)).toEqual(['a']);

    await writeFile(join(dir, 'x..y.secret'), 'x');
    const err = await failure(store.list());
    expect(err).toBeInstanceOf(SecretCorruptError);
    expect(err.message).toContain(`${join(dir, 'x..y.secret')} is corrupt: the file name does not decode to a valid secret name`);
    await rm(join(dir, 'x..y.secret'));

    await writeFile(join(tmp.path, 'elsewhere'), 'x');
    await symlink(join(tmp.path, 'elsewhere'), file('b'));
    expect((await failure(store.get('b'))).message).toMatch(/is a symbolic link; refusing to follow it/);
  });

  it('fixes a secret file readable by others to 0600 on read, and warns that it may have been exposed', async () => {
    await store.put('a', [makeVersion(1, ['current'])], null);
    await chmod(file('a'), 0o644);
    expect((await store.get('a'))?.revision).toBe(1);
    expect((await stat(file('a'))).mode & 0o777).toBe(0o600);
    const warning = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.file === file('a'));
    expect(warning).toMatchObject({ level: 40, mode: '0644', msg: expect.stringMatching(/possibly exposed and rotate it/) });
  });

  it('creates the folder 0700 and tightens an existing open folder with a warning', async () => {
    await store.list();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    const open = join(tmp.path, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    const other = new FileSecretStore({ dir: open, key, logger: createLogger({ destination: { write: (l: string) => void logLines.push(l) } }) });
    expect(await other.list()).toEqual([]);
    expect((await stat(open)).mode & 0o777).toBe(0o700);
    expect(logLines.some((l) => l.includes('secret store folder was accessible to other users'))).toBe(true);
  });

  it('with createDir false, refuses a missing folder (an unmounted volume) instead of serving an empty store', async () => {
    const strict = new FileSecretStore({ dir: join(tmp.path, 'not-mounted'), key, createDir: false });
    const err = await failure(strict.list());
    expect(errorCode(err)).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/store\.dir: .*not-mounted does not exist/);
    await mkdir(join(tmp.path, 'not-mounted'));
    expect(await strict.list()).toEqual([]);
  });

  it('describes itself by folder only', () => {
    expect(store.description).toBe(`file:${dir}`);
  });
});
