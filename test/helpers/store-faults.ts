import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretStore } from '../../src/secrets/types.js';

export type StoreFault = 'ENOSPC' | 'EACCES' | 'EROFS';

/**
 * A store write failing the way a full or read-only disk fails it. Where this machine can, the
 * error comes from the kernel itself: ENOSPC from a write to /dev/full; EACCES from a write into
 * a folder without write permission (only when not root: root bypasses the mode bits). EROFS
 * needs a read-only mount, which a test cannot make without root, so it (and EACCES as root, and
 * ENOSPC without /dev/full) is an errno-shaped error like the one Node would throw.
 */
export function storeWriteError(fault: StoreFault): NodeJS.ErrnoException {
  try {
    if (fault === 'ENOSPC') writeFileSync('/dev/full', 'x');
    if (fault === 'EACCES' && process.getuid?.() !== 0) {
      const dir = mkdtempSync(join(tmpdir(), 'dfns-rotator-ro-'));
      chmodSync(dir, 0o500);
      try {
        writeFileSync(join(dir, 'secret.json'), 'x');
      } finally {
        chmodSync(dir, 0o700);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === fault) return err as NodeJS.ErrnoException;
  }
  const errno = { ENOSPC: -28, EACCES: -13, EROFS: -30 }[fault];
  const text = { ENOSPC: 'no space left on device', EACCES: 'permission denied', EROFS: 'read-only file system' }[fault];
  return Object.assign(new Error(`${fault}: ${text}, open 'secret.json'`), { code: fault, errno, syscall: 'open' });
}

/** Wraps a store so that its writes fail with `fault()` whenever it returns one; reads always work. */
export function faultyStore(inner: SecretStore, fault: () => StoreFault | null, onRefused?: () => void): SecretStore {
  return {
    description: inner.description,
    list: () => inner.list(),
    get: (name) => inner.get(name),
    async put(name, versions, expected) {
      const f = fault();
      if (f) {
        onRefused?.();
        throw storeWriteError(f);
      }
      return inner.put(name, versions, expected);
    },
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}
