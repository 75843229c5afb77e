import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Per-process key: both sides are MACed first so the compare always runs on 32-byte buffers. */
const KEY = randomBytes(32);

/**
 * Compares a presented secret with the expected one in constant time. Both are MACed first, so
 * the comparison takes the same time whatever the lengths (Node's `timingSafeEqual` throws on a
 * length mismatch, and checking lengths first would leak the expected length).
 */
export function safeEqual(presented: string, expected: string): boolean {
  const a = createHmac('sha256', KEY).update(presented, 'utf8').digest();
  const b = createHmac('sha256', KEY).update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
