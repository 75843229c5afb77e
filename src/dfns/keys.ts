import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, sign, type KeyObject } from 'node:crypto';
import { RotatorError } from '../errors.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from './port.js';

/**
 * Key pairs for Dfns Key credentials. Dfns accepts PEM public keys (SPKI) and verifies signatures
 * the way Node's `crypto.sign(undefined, data, key)` makes them (see dfns-api.md §2): Ed25519 raw,
 * ECDSA SHA-256 DER, RSA PKCS#1 v1.5 SHA-256. Errors never quote a PEM.
 */

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

export interface KeyPairPem {
  algorithm: KeyAlgorithm;
  /** PKCS#8 PEM. A secret: store it, never log it. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/** A key that is unreadable, of an unsupported type, or not the pair of another key. Nothing was sent anywhere. */
export class InvalidKeyError extends RotatorError {
  constructor(message: string, cause?: unknown) {
    super('KEY_INVALID', message, { cause });
  }
}

const ENCODING = {
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
} as const;

type PemPair = { publicKey: string; privateKey: string };

function generate(type: 'ed25519', options: typeof ENCODING): Promise<PemPair>;
function generate(type: 'ec', options: typeof ENCODING & { namedCurve: string }): Promise<PemPair>;
function generate(type: 'rsa', options: typeof ENCODING & { modulusLength: number; publicExponent: number }): Promise<PemPair>;
function generate(type: 'ed25519' | 'ec' | 'rsa', options: object): Promise<PemPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: string, privateKey: string) => (err ? reject(err) : resolve({ publicKey, privateKey }));
    // The overloads of node:crypto's generateKeyPair are per key type; one cast keeps this table-driven.
    (generateKeyPairCb as unknown as (t: string, o: object, cb: typeof done) => void)(type, options, done);
  });
}

/**
 * Generates a key pair. Always the async form: RSA generation takes 50 ms to seconds of CPU,
 * which must run on the libuv pool, not block the event loop (BullMQ lock renewals live there).
 */
export async function generateKeyPair(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<KeyPairPem> {
  let pair: PemPair;
  switch (algorithm) {
    case 'ed25519':
      pair = await generate('ed25519', ENCODING);
      break;
    case 'ecdsa-p256':
      pair = await generate('ec', { namedCurve: 'prime256v1', ...ENCODING });
      break;
    case 'ecdsa-secp256k1':
      pair = await generate('ec', { namedCurve: 'secp256k1', ...ENCODING });
      break;
    case 'rsa-2048':
      pair = await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001, ...ENCODING });
      break;
    case 'rsa-3072':
      pair = await generate('rsa', { modulusLength: 3072, publicExponent: 0x10001, ...ENCODING });
      break;
    default:
      throw new InvalidKeyError(`unsupported key algorithm ${String(algorithm)}; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  return { algorithm, privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

function readPrivateKey(privateKeyPem: string, what: string): KeyObject {
  try {
    return createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new InvalidKeyError(`${what} is not a readable private key PEM`, err);
  }
}

function readPublicKey(pem: string, what: string): KeyObject {
  try {
    // createPublicKey also accepts a private PEM and derives its public half.
    return createPublicKey(pem);
  } catch (err) {
    throw new InvalidKeyError(`${what} is not a readable PEM key`, err);
  }
}

/** The SPKI PEM public key of a private key PEM. */
export function publicKeyFromPrivate(privateKeyPem: string): string {
  const key = createPublicKey(readPrivateKey(privateKeyPem, 'private key'));
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** True when the private key is the pair of the public key (SPKI or PKCS#1 `RSA PUBLIC KEY` PEM). */
export function privateKeyMatchesPublicKey(privateKeyPem: string, publicKeyPem: string): boolean {
  const derived = createPublicKey(readPrivateKey(privateKeyPem, 'private key'));
  const given = readPublicKey(publicKeyPem, 'public key');
  if (given.type !== 'public') throw new InvalidKeyError('public key argument holds a private key');
  return derived.export({ type: 'spki', format: 'der' }).equals(given.export({ type: 'spki', format: 'der' }));
}

/** Throws InvalidKeyError unless the two PEMs are a pair. */
export function assertKeyPair(privateKeyPem: string, publicKeyPem: string, what = 'key pair'): void {
  if (!privateKeyMatchesPublicKey(privateKeyPem, publicKeyPem)) {
    throw new InvalidKeyError(`${what}: the private key does not match the public key`);
  }
}

/**
 * Throws unless `pem` is a PUBLIC key PEM of a supported algorithm. `createPublicKey` happily
 * derives a public key from a private PEM, so without this check a private key passed by mistake
 * as `publicKeyPem` would be sent to Dfns in a request body.
 */
export function assertPublicKeyPem(pem: string, what = 'public key'): KeyAlgorithm {
  if (typeof pem !== 'string' || !/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem) || pem.includes('PRIVATE KEY')) {
    throw new InvalidKeyError(`${what} must be a PEM public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY), and never a private key`);
  }
  return detectKeyAlgorithm(pem);
}

/** The algorithm of a private or public key PEM, or an InvalidKeyError naming what is unsupported. */
export function detectKeyAlgorithm(pem: string): KeyAlgorithm {
  const key = readPublicKey(pem, 'key');
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ed25519') return 'ed25519';
  if (type === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details.namedCurve === 'secp256k1') return 'ecdsa-secp256k1';
    throw new InvalidKeyError(`unsupported EC curve ${details.namedCurve ?? 'unknown'}; use P-256 or secp256k1`);
  }
  if (type === 'rsa') {
    if (details.modulusLength === 2048) return 'rsa-2048';
    if (details.modulusLength === 3072) return 'rsa-3072';
    throw new InvalidKeyError(`unsupported RSA size ${details.modulusLength ?? 'unknown'} bits; use 2048 or 3072`);
  }
  throw new InvalidKeyError(`unsupported key type ${type ?? 'unknown'}; use one of ${KEY_ALGORITHMS.join(', ')}`);
}

/**
 * Signs bytes the way Dfns verifies them and the SDK's AsymmetricKeySigner signs: digest chosen
 * by the key (SHA-256 for RSA/ECDSA, none for Ed25519), ECDSA as DER.
 */
export function signWithPrivateKey(privateKeyPem: string, data: Buffer | string): Buffer {
  const key = readPrivateKey(privateKeyPem, 'private key');
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const digest = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
  return sign(digest, bytes, key);
}
