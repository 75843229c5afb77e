import { spawn } from 'node:child_process';
import { mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Sleep } from '../../src/clock.js';
import { errorCode } from '../../src/errors.js';
import { SecretLockError } from '../../src/secrets/errors.js';
import { processIdentity } from '../../src/secrets/file-lock.js';
import { FileSecretStore } from '../../src/secrets/file-store.js';
import { generateStoreKey } from '../../src/secrets/store-key.js';
import { makeVersion } from '../fixtures/managed-secret.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The per-secret lock file: who it waits for, when it breaks a lock, and that it never sleeps for
 * real in these tests (the sleep is injected and moves a manual clock).
 */
describe('file store lock', () => {
  const NOW = Date.UTC(2026, 0, 1);
  const key = generateStoreKey();
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dir: string;
  let clock: ManualClock;
  let slept: number[];
  const lockPath = () => join(dir, '.payments~bot.lock');

  // Each "sleep" moves the clock, so lock ages grow as if time had passed.
  const sleep: Sleep = async (ms) => {
    slept.push(ms);
    clock.advance(ms);
  };
  const openStore = (lock: { staleMs?: number; maxWaitMs?: number } = {}) =>
    new FileSecretStore({ dir, key, clock, sleep, lock: { retryMs: 100, ...lock } });

  async function writeLock(content: unknown): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(lockPath(), typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  }

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.on('exit', resolve));
    return child.pid!;
  }

  beforeEach(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.path, 'store');
    clock = new ManualClock(NOW);
    slept = [];
  });
  afterEach(() => tmp.remove());

  it('removes its lock file after each write, leaving only the data file', async () => {
    const store = openStore();
    await store.put('payments/bot', [makeVersion(1, ['current'])], null);
    await store.put('payments/bot', [makeVersion(1, ['current'])], 1);
    expect(await readdir(dir)).toEqual(['payments~bot.secret']);
    expect(slept).toEqual([]);
  });

  it('breaks at once the lock of a dead process on this host', async () => {
    await writeLock({ pid: await deadPid(), host: processIdentity(), token: 'old', acquiredAt: NOW });
    expect(await openStore().put('payments/bot', [makeVersion(1, ['current'])], null)).toBe(1);
    expect(slept).toEqual([]);
    expect(await readdir(dir)).toEqual(['payments~bot.secret']);
  });

  it('breaks at once a lock left by an earlier process with our own pid (pid 1 in a restarted container)', async () => {
    await writeLock({ pid: process.pid, host: processIdentity(), token: 'old', acquiredAt: NOW });
    expect(await openStore().put('payments/bot', [makeVersion(1, ['current'])], null)).toBe(1);
    expect(slept).toEqual([]);
  });

  it('waits for a live process on this host, then gives up with a retryable SecretLockError naming it', async () => {
    await writeLock({ pid: process.ppid, host: processIdentity(), token: 'live', acquiredAt: NOW });
    const err = await openStore({ maxWaitMs: 1_000, staleMs: 30_000 })
      .put('payments/bot', [makeVersion(1, ['current'])], null)
      .catch((e: unknown) => e as SecretLockError);
    expect(err).toBeInstanceOf(SecretLockError);
    expect(errorCode(err)).toBe('SECRET_LOCKED');
    expect((err as SecretLockError).retryable).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`still held by pid ${process.ppid} on .* after waiting \\d+ ms`));
    expect(slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1_000);
    expect(slept.every((ms) => ms >= 50 && ms <= 150)).toBe(true);
    // nothing was written, and the other process's lock is untouched
    expect((await readdir(dir)).sort()).toEqual(['.payments~bot.lock']);
  });

  it('never checks the pid of a lock from another host (another pid namespace), but breaks it once older than staleMs', async () => {
    // the pid is dead here, but it names a process in another pid namespace: only age can break it
    await writeLock({ pid: await deadPid(), host: 'other-container pid:[1]', token: 'foreign', acquiredAt: NOW - 1_000 });
    const store = openStore({ staleMs: 5_000, maxWaitMs: 60_000 });
    expect(await store.put('payments/bot', [makeVersion(1, ['current'])], null)).toBe(1);
    const waited = slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThan(4_000 - 150);
    expect(waited).toBeLessThan(4_000 + 300);
  });

  it('breaks an unreadable lock (owner killed between create and write) by the file age', async () => {
    await writeLock('');
    const old = new Date(NOW - 60_000);
    await utimes(lockPath(), old, old);
    expect(await openStore({ staleMs: 30_000 }).put('payments/bot', [makeVersion(1, ['current'])], null)).toBe(1);
    expect(slept).toEqual([]);
  });

  it('waits for a fresh unreadable lock (an owner still writing it) rather than breaking it', async () => {
    await writeLock('');
    await utimes(lockPath(), new Date(NOW), new Date(NOW));
    await expect(openStore({ staleMs: 30_000, maxWaitMs: 500 }).put('payments/bot', [makeVersion(1, ['current'])], null)).rejects.toBeInstanceOf(SecretLockError);
  });

  it('never breaks a live lock of its own process reached through another path to the folder', async () => {
    await openStore().put('payments/bot', [makeVersion(1, ['current'])], null);
    const alias = join(tmp.path, 'alias');
    await symlink(dir, alias);
    // yields to the event loop without moving the clock: the holder finishes its write meanwhile
    const yieldOnly: Sleep = () => new Promise((resolve) => setImmediate(resolve));
    const a = new FileSecretStore({ dir, key, clock, sleep: yieldOnly });
    const b = new FileSecretStore({ dir: alias, key, clock, sleep: yieldOnly });
    const results = await Promise.allSettled([1, 2, 3].flatMap((i) => [a, b].map((s) => s.put('payments/bot', [makeVersion(i, ['current'])], 1))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(errorCode(r.reason)).toBe('SECRET_CONFLICT');
    expect((await a.get('payments/bot'))?.revision).toBe(2);
  });

  it('serialises writers in one process without touching the injected sleep', async () => {
    const a = openStore();
    const b = openStore();
    await a.put('payments/bot', [makeVersion(1, ['current'])], null);
    const results = await Promise.allSettled([a.put('payments/bot', [makeVersion(2, ['current'])], 1), b.put('payments/bot', [makeVersion(3, ['current'])], 1)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(slept).toEqual([]);
  });
});
