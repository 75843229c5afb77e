import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Signature rules Dfns applies to Key credentials (dfns-api.md §2):
 * - RSA: RSASSA-PKCS1-v1_5, SHA-256 (what Node's `crypto.sign(undefined, …)` makes with an RSA key).
 * - ECDSA (P-256, secp256k1, any curve Node knows): SHA-256, ASN.1/DER signature. A raw r‖s
 *   signature is refused, as by Dfns.
 * - Ed25519 (and Ed448): pure, over the message, 64 raw bytes.
 * The optional `algorithm` names the digest (SHA256, RSA-SHA256, SHA512); ignored for EdDSA.
 * RSA-PSS keys are refused: only PKCS#1 v1.5 is evidenced (UNCONFIRMED whether Dfns takes PSS).
 */
export type KeyKind = 'rsa' | 'ec' | 'ed25519' | 'ed448';

export interface ParsedPublicKey {
  key: KeyObject;
  kind: KeyKind;
  /** `SHA256:<base64 of the SPKI DER digest>`, as Dfns lists token keys. */
  fingerprint: string;
}

const PEM = /^\s*-----BEGIN (RSA )?PUBLIC KEY-----[\s\S]+-----END (RSA )?PUBLIC KEY-----\s*$/;

/** Parses a PEM public key (SPKI or PKCS#1 RSA). Returns a reason string when refused. */
export function parsePublicKeyPem(pem: unknown): ParsedPublicKey | string {
  if (typeof pem !== 'string' || !PEM.test(pem)) return 'must be a PEM public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)';
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'is not a parseable PEM public key';
  }
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519' && type !== 'ed448') {
    return `uses an unsupported key type (${type ?? 'unknown'}); use Ed25519, ECDSA or RSA (PKCS#1 v1.5)`;
  }
  return { key, kind: type, fingerprint: fingerprintOf(key) };
}

export function fingerprintOf(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

const DIGESTS: Record<string, string> = { SHA256: 'sha256', 'RSA-SHA256': 'sha256', SHA512: 'sha512' };

/** Null when the algorithm name is acceptable, else the reason. */
export function checkAlgorithm(algorithm: string | undefined): string | null {
  if (algorithm === undefined || algorithm in DIGESTS) return null;
  return `algorithm must be one of ${Object.keys(DIGESTS).join(', ')}`;
}

/** True when `signature` is a valid signature of `data` by `parsed` under Dfns' rules. Never throws. */
export function verifySignature(parsed: ParsedPublicKey, data: Buffer, signature: Buffer, algorithm?: string): boolean {
  try {
    switch (parsed.kind) {
      case 'ed25519':
      case 'ed448':
        return verify(null, data, parsed.key, signature);
      case 'ec':
        return verify(DIGESTS[algorithm ?? 'SHA256'] ?? 'sha256', data, { key: parsed.key, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return verify(DIGESTS[algorithm ?? 'SHA256'] ?? 'sha256', data, { key: parsed.key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
  } catch {
    return false;
  }
}
