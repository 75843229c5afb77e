import { chmod, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SecretPermissionError } from './errors.js';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Points in a write where a test can stop the process (crash tests); production passes none. */
export type WriteStep = 'temp-partial' | 'temp-written' | 'renamed';

export interface AtomicWriteOptions {
  /** Called after each step completes; may hang forever in a crash test. */
  onStep?: (step: WriteStep, path: string) => Promise<void> | void;
  /** Last check before the rename makes the write visible; throw to abort (the temp file is removed). */
  beforeCommit?: () => Promise<void>;
}

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the old file or the new
 * one: write a temp file in the same folder (rename is only atomic within one file system) with
 * mode 0600 set before any data goes in, fsync it, rename it over the target, fsync the folder so
 * the rename itself survives a power loss.
 */
export async function writeFileAtomic(path: string, tempPath: string, data: Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  let committed = false;
  try {
    const handle = await open(tempPath, 'wx', FILE_MODE);
    try {
      // The umask can only narrow the mode; chmod anyway and check, because some mounts (SMB, some
      // Docker Desktop volumes) silently ignore permissions, and a secret must not land there.
      await handle.chmod(FILE_MODE);
      const mode = (await handle.stat()).mode & 0o777;
      if (mode !== FILE_MODE) {
        throw new SecretPermissionError(tempPath, `the file system keeps mode ${octal(mode)} instead of 0600; put the secret store on a local file system that honours permissions`);
      }
      // Two halves, so a crash test can stop the process with a half-written file on disk.
      const half = data.length >> 1;
      await writeRange(handle, data, 0, half);
      await options.onStep?.('temp-partial', tempPath);
      await writeRange(handle, data, half, data.length);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.onStep?.('temp-written', tempPath);
    await options.beforeCommit?.();
    await rename(tempPath, path);
    committed = true;
    await syncDir(dirname(path));
    await options.onStep?.('renamed', path);
  } finally {
    if (!committed) await unlink(tempPath).catch(() => undefined);
  }
}

/** Creates the folder with mode 0700, or tightens an existing one (returns the mode it had if it was wider). */
export async function ensurePrivateDir(dir: string): Promise<number | null> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  await chmod(dir, DIR_MODE);
  const after = (await stat(dir)).mode & 0o777;
  if (after & 0o077) throw new SecretPermissionError(dir, `cannot restrict the secret store folder to mode 0700 (it stays ${octal(after)})`);
  return mode;
}

/** `write` may write less than asked; loop until the range is on disk. */
async function writeRange(handle: FileHandle, data: Buffer, start: number, end: number): Promise<void> {
  for (let at = start; at < end; ) {
    const { bytesWritten } = await handle.write(data, at, end - at, at);
    at += bytesWritten;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some platforms cannot fsync a directory (EINVAL/EISDIR/EPERM); there is nothing more to do there.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}
