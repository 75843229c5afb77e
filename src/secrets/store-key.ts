import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { cliCommand } from '../cli-name.js';

/** AES-256 needs exactly 32 bytes. */
export const STORE_KEY_BYTES = 32;

const HEX = /^[0-9a-fA-F]{64}$/;
// Standard or URL-safe base64 of 32 bytes: 43 characters plus optional single `=` padding.
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]{43}=?$/;

/**
 * Parses file-store key material: 32 bytes written as 64 hex characters or base64 (standard or
 * URL-safe), surrounding whitespace ignored (key files end with a newline), or a Buffer holding
 * the 32 raw bytes. `source` names where it came from (`env DFNS_ROTATOR_STORE_KEY`, a file path)
 * for the error; the material itself never appears in an error.
 */
export function parseStoreKey(material: string | Buffer, source: string): Buffer {
  if (Buffer.isBuffer(material) && material.length === STORE_KEY_BYTES) return checkStrength(Buffer.from(material), source);
  const text = (Buffer.isBuffer(material) ? material.toString('utf8') : material).trim();
  if (text === '') throw keyProblem(source, 'is empty');
  let key: Buffer;
  if (HEX.test(text)) key = Buffer.from(text, 'hex');
  else if (BASE64.test(text)) key = Buffer.from(text, 'base64');
  else if (BASE64URL.test(text)) key = Buffer.from(text, 'base64url');
  else if (/^[0-9a-fA-F]+$/.test(text)) throw keyProblem(source, `is ${text.length} hex characters; it must be 64 (32 bytes)`);
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64').length;
    throw keyProblem(source, `decodes to ${bytes} bytes; it must be 32 (44 base64 characters)`);
  } else throw keyProblem(source, 'is neither hex nor base64');
  return checkStrength(key, source);
}

/** 32 fresh random bytes, for `dfns-rotator init` and the demo. */
export function generateStoreKey(): Buffer {
  return randomBytes(STORE_KEY_BYTES);
}

/** The text form to put in an env var or key file (base64, 44 characters). */
export function storeKeyToText(key: Buffer): string {
  return key.toString('base64');
}

/**
 * A short public fingerprint of a key: 8 hex characters of a domain-separated SHA-256. Written
 * into every file so a wrong key is reported as such, not as a generic decryption failure. It
 * reveals nothing useful about the key (32 bits of a hash of 256 random bits).
 */
export function storeKeyId(key: Buffer): string {
  return createHash('sha256').update('dfns-rotator/file-store/key-id/v1\0').update(key).digest('hex').slice(0, 8);
}

function checkStrength(key: Buffer, source: string): Buffer {
  if (key.length !== STORE_KEY_BYTES) throw keyProblem(source, `must be ${STORE_KEY_BYTES} bytes, got ${key.length}`);
  // All bytes equal (zeros, 0xff…) means a placeholder was left in place, not a random key.
  if (key.every((b) => b === key[0])) throw keyProblem(source, 'is a placeholder (every byte the same); generate a key with `' + cliCommand('init') + '`');
  return key;
}

function keyProblem(source: string, problem: string): ConfigError {
  return new ConfigError([`store key (${source}) ${problem}; expected 32 random bytes as 64 hex characters or base64`], 'secret store key');
}
