import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SecretCorruptError, SecretKeyError } from './errors.js';
import { STORE_KEY_BYTES, storeKeyId } from './store-key.js';

/**
 * The file store's envelope: one JSON object per file,
 *   {"format":"dfns-rotator/secret","v":1,"name":…,"keyId":…,"iv":…,"tag":…,"data":…}
 * AES-256-GCM with a random 96-bit IV per write. The format, version, key id and secret name are
 * authenticated as AAD, so a file copied or renamed onto another secret is refused even if its
 * clear-text `name` is edited to match. The name and key id are in clear so that a swapped file
 * and a wrong key each get their own precise error.
 */

export const ENVELOPE_FORMAT = 'dfns-rotator/secret';
export const ENVELOPE_VERSION = 1;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const b64 = (bytes: number) =>
  z.string().refine((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(s, 'base64').length === bytes, `expected ${bytes} bytes of base64`);

const envelopeSchema = z.looseObject({
  format: z.literal(ENVELOPE_FORMAT),
  v: z.number().int().positive(),
  name: z.string(),
  keyId: z.string().regex(/^[0-9a-f]{8}$/),
  iv: b64(IV_BYTES),
  tag: b64(TAG_BYTES),
  // Not pattern-checked (it is the large field): anything not ours fails authentication below.
  data: z.string(),
});

export class FileCipher {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== STORE_KEY_BYTES) throw new RangeError(`file store key must be ${STORE_KEY_BYTES} bytes, got ${key.length}`);
    this.keyId = storeKeyId(key);
    // A derived key, so the key id (a hash of the configured key) says nothing about the AES key.
    this.#key = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'dfns-rotator/file-store/aes-256-gcm/v1', STORE_KEY_BYTES));
  }

  /** Encrypts `plaintext` for the secret `name`; returns the file contents. */
  seal(name: string, plaintext: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(ENVELOPE_VERSION, this.keyId, name));
    const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const envelope = {
      format: ENVELOPE_FORMAT,
      v: ENVELOPE_VERSION,
      name,
      keyId: this.keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    return Buffer.from(`${JSON.stringify(envelope)}\n`, 'utf8');
  }

  /**
   * Decrypts file contents that must belong to the secret `name`. `where` (the file path) goes in
   * errors: `SecretCorruptError` for anything unreadable or not ours, `SecretKeyError` for a wrong
   * key or a failed authentication.
   */
  open(name: string, contents: Buffer, where: string): Buffer {
    if (contents.length === 0) throw new SecretCorruptError(where, 'the file is empty');
    let json: unknown;
    try {
      json = JSON.parse(contents.toString('utf8'));
    } catch {
      throw new SecretCorruptError(where, `not a dfns-rotator secret envelope (unparseable, ${contents.length} bytes: truncated?)`);
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SecretCorruptError(where, `bad envelope field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
    }
    const env = parsed.data;
    if (env.v > ENVELOPE_VERSION) {
      throw new SecretCorruptError(where, `written in format v${env.v} by a newer dfns-rotator; this version reads up to v${ENVELOPE_VERSION}`);
    }
    if (env.name !== name) {
      throw new SecretCorruptError(where, `the file holds secret "${env.name}", not "${name}" (renamed or copied over?)`);
    }
    if (env.keyId !== this.keyId) {
      throw new SecretKeyError(where, `wrong key: the file was written with key id ${env.keyId}, the configured key has id ${this.keyId}`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(env.iv, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(env.v, env.keyId, env.name));
      decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]);
    } catch {
      throw new SecretKeyError(where, `authentication failed although the key id matches (${this.keyId}): the file was modified or damaged`);
    }
  }
}

function aad(version: number, keyId: string, name: string): Buffer {
  // Secret names cannot contain newlines (SECRET_NAME_PATTERN), so the encoding is unambiguous.
  return Buffer.from(`${ENVELOPE_FORMAT}\n${version}\n${keyId}\n${name}`, 'utf8');
}
