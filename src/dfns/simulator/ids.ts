import { randomBytes } from 'node:crypto';

/**
 * Dfns-looking identifiers (`us-2q55i-g68v6-9etoie66crbdsh7k`): a kind prefix and three groups of
 * base36 characters. Random, never derived from secrets.
 */
export type IdPrefix = 'or' | 'us' | 'to' | 'cr' | 'pm' | 'as' | 'ap' | 'ch' | 'ua' | 'uj';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

// One buffer refilled in bulk: seeding 10,000+ records makes ~5 ids each.
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomBase36(length: number): string {
  if (poolOffset + length > pool.length) {
    pool = randomBytes(8192);
    poolOffset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[pool[poolOffset + i]! % 36];
  poolOffset += length;
  return out;
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomBase36(5)}-${randomBase36(5)}-${randomBase36(16)}`;
}

/** A Key credential id as Dfns issues them for SA/PAT keys: base64url of a `ci-…` id. */
export function newCredId(): string {
  return Buffer.from(`ci-${randomBase36(5)}-${randomBase36(5)}-${randomBase36(16)}`).toString('base64url');
}

/** A challenge as Dfns shapes them: base64url of a random hex string, signed by the client as is. */
export function newChallenge(): string {
  return Buffer.from(randomBytes(32).toString('hex')).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url decoding (Buffer.from silently skips bad characters). Null when malformed. */
export function decodeBase64Url(value: string): Buffer | null {
  if (!BASE64URL.test(value) || value.length % 4 === 1) return null;
  return Buffer.from(value, 'base64url');
}
