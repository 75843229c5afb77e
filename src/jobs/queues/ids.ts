import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (26 chars, time-ordered): rotation ids and scan ids. `now` is injected for tests. */
export function ulid(now: number): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const rand = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[rand[i]! % 32];
  return time + tail;
}

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * BullMQ job ids must not contain ':' (its key separator) nor be integers. Everything else a
 * secret name may hold (`a-z0-9._/-`) is allowed.
 */
export const jobIds = {
  scanTick: (tickIso: string) => `scan_${tickIso.replace(/:/g, '-')}`,
  scanManual: (scanId: string) => `scan_manual_${scanId}`,
  rotate: (rotationId: string) => `rotate_${rotationId}`,
  /** At most one rotation job per secret waits or runs at a time (BullMQ deduplication). */
  rotateDedupe: (secretName: string) => `rotate_${secretName}`,
  retire: (rotationId: string, phase: 'deactivate' | 'archive') => `retire_${rotationId}_${phase}`,
  notify: (dedupeKey: string) => `notify_${dedupeKey.replace(/:/g, '_')}`,
};
