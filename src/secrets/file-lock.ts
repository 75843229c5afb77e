import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import { SecretLockError } from './errors.js';

/**
 * A cross-process lock file: created with O_EXCL (`wx`), holding the owner's pid, host name and
 * a random token. Node has no flock(), and O_EXCL creation is atomic on local file systems and
 * NFSv3+.
 *
 * A lock is stale when its owner is on this host and its pid is dead, or when it is older than
 * `staleMs` (a hung owner, a reused pid, or an owner elsewhere). Containers sharing a volume have
 * separate pid namespaces, so the owner is identified by host name plus pid namespace, and its pid
 * is only checked when both match ours. A lock with our own identity and pid whose token this
 * process does not hold is a leftover of an earlier process with the same pid (pid 1 in a
 * restarted container). Within this process, attempts on one path take turns (`inProcessTurn`).
 *
 * Breaking is rename-then-check: the stale file is renamed to a unique name, and only if it is
 * still the stale lock we judged is it deleted; if a live lock was moved by mistake (another
 * breaker got there first and a new owner took the lock) it is linked back. The owner also checks
 * its token just before committing a write (`stillHeld`). The remaining window (three processes
 * racing on one stale lock within microseconds) is accepted and documented here.
 */

export interface LockOptions {
  /** A lock older than this is broken whatever its pid says. Must exceed the longest write. */
  staleMs: number;
  /** Wait between attempts while the lock is held by a live owner. */
  retryMs: number;
  /** Give up (SecretLockError, retryable) after waiting this long in total. */
  maxWaitMs: number;
  sleep: Sleep;
  clock: Clock;
  logger: Logger;
  /** `processIdentity()`: host name and pid namespace. */
  host: string;
  pid: number;
  /** Whether a pid on this host is alive. */
  isAlive: (pid: number) => boolean;
}

export interface HeldLock {
  readonly path: string;
  /** True while the lock file on disk is still ours. */
  stillHeld(): Promise<boolean>;
  /** Removes the lock file if it is still ours. Never throws. */
  release(): Promise<void>;
}

interface LockContent {
  pid: number;
  host: string;
  token: string;
  acquiredAt: number;
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who owns locks taken by this process, as written into lock files. */
export function processIdentity(): string {
  let pidNamespace = '';
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // not Linux: the host name alone
  }
  return pidNamespace ? `${hostname()} ${pidNamespace}` : hostname();
}

const turns = new Map<string, Promise<void>>();
/** Tokens of the locks this process holds now (several store objects may share a folder). */
const heldTokens = new Set<string>();

/** Serialises lock attempts on one path within this process; resolves to the function ending our turn. */
function inProcessTurn(path: string): Promise<() => void> {
  const previous = turns.get(path) ?? Promise.resolve();
  let end!: () => void;
  const ours = new Promise<void>((resolve) => (end = resolve));
  const tail = previous.then(() => ours);
  turns.set(path, tail);
  return previous.then(() => () => {
    end();
    if (turns.get(path) === tail) turns.delete(path);
  });
}

/** Waits (bounded) for the lock; throws `SecretLockError` naming the holder when the wait runs out. */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const endTurn = await inProcessTurn(path);
  try {
    let waited = 0;
    for (;;) {
      const attempt = await attemptLock(path, options, endTurn);
      if (attempt.lock) return attempt.lock;
      if (waited >= options.maxWaitMs) {
        throw new SecretLockError(path, `still held by ${describeHolder(attempt.holder, options)} after waiting ${waited} ms`);
      }
      // Jitter keeps two waiters from retrying in lock-step.
      const pause = Math.max(1, Math.round(options.retryMs * (0.5 + Math.random())));
      await options.sleep(pause);
      waited += pause;
    }
  } catch (err) {
    endTurn();
    throw err;
  }
}

/** One attempt without waiting (breaking a stale lock on the way); null when someone holds it. */
export async function tryAcquireLock(path: string, options: LockOptions): Promise<HeldLock | null> {
  if (turns.has(path)) return null;
  const endTurn = await inProcessTurn(path);
  try {
    const { lock } = await attemptLock(path, options, endTurn);
    if (!lock) endTurn();
    return lock;
  } catch (err) {
    endTurn();
    throw err;
  }
}

async function attemptLock(path: string, options: LockOptions, endTurn: () => void): Promise<{ lock: HeldLock | null; holder: LockContent | null }> {
  // Two rounds: the second follows a successful break.
  for (let round = 0; round < 2; round++) {
    const content: LockContent = { pid: options.pid, host: options.host, token: randomBytes(16).toString('hex'), acquiredAt: options.clock.now() };
    try {
      await writeFile(path, JSON.stringify(content), { flag: 'wx', mode: 0o600 });
      heldTokens.add(content.token);
      return { lock: heldLock(path, content.token, options.logger, endTurn), holder: null };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await readLock(path);
    if (seen === 'gone') continue;
    if (!isStale(seen.content, seen.mtimeMs, options)) return { lock: null, holder: seen.content };
    if (!(await breakLock(path, seen.raw, options))) return { lock: null, holder: seen.content };
    options.logger.warn({ lock: path, holder: seen.content ? { pid: seen.content.pid, host: seen.content.host } : null }, 'broke a stale secret store lock');
  }
  return { lock: null, holder: null };
}

function heldLock(path: string, token: string, logger: Logger, endTurn: () => void): HeldLock {
  const stillHeld = async () => {
    const seen = await readLock(path);
    return seen !== 'gone' && seen.content?.token === token;
  };
  return {
    path,
    stillHeld,
    async release() {
      try {
        if (await stillHeld()) await unlink(path);
        else logger.warn({ lock: path }, 'secret store lock was taken over before release (judged stale by another process)');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ lock: path, err: (err as Error).message }, 'could not release secret store lock');
      } finally {
        heldTokens.delete(token);
        endTurn();
      }
    },
  };
}

async function readLock(path: string): Promise<'gone' | { raw: string; content: LockContent | null; mtimeMs: number }> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { raw, content: parseLock(raw), mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

function parseLock(raw: string): LockContent | null {
  try {
    const v = JSON.parse(raw) as Partial<LockContent>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string' && typeof v.acquiredAt === 'number') {
      return { pid: v.pid, host: v.host, token: v.token, acquiredAt: v.acquiredAt };
    }
  } catch {
    // fall through: an owner killed between create and write leaves an empty file
  }
  return null;
}

function isStale(content: LockContent | null, mtimeMs: number, options: LockOptions): boolean {
  const age = options.clock.now() - (content?.acquiredAt ?? mtimeMs);
  if (age > options.staleMs) return true;
  if (content && content.host === options.host) {
    return content.pid === options.pid ? !heldTokens.has(content.token) : !options.isAlive(content.pid);
  }
  return false;
}

async function breakLock(path: string, staleRaw: string, options: LockOptions): Promise<boolean> {
  const grave = `${path}.broken-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, grave);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // someone else broke it
    throw err;
  }
  const moved = await readFile(grave, 'utf8').catch(() => null);
  if (moved === staleRaw) {
    await unlink(grave).catch(() => undefined);
    return true;
  }
  // We moved a live lock taken after the stale one was broken by someone else: put it back.
  try {
    await link(grave, path);
  } catch (err) {
    options.logger.error({ lock: path, err: (err as Error).message }, 'could not restore a secret store lock moved while breaking a stale one; its owner will see it lost the lock');
  }
  await unlink(grave).catch(() => undefined);
  return false;
}

function describeHolder(holder: LockContent | null, options: LockOptions): string {
  if (!holder) return 'another writer';
  const age = Math.max(0, options.clock.now() - holder.acquiredAt);
  return `pid ${holder.pid} on ${holder.host} (for ${age} ms; broken as stale after ${options.staleMs} ms)`;
}
