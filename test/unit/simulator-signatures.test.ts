import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKeyPem, verifySignature, type ParsedPublicKey } from '../../src/dfns/simulator/signatures.js';

/** The simulator's signature rules (dfns-api.md §2), key type by key type. */
const data = Buffer.from('{"type":"key.get","challenge":"abc"}');

function parsed(pem: string): ParsedPublicKey {
  const key = parsePublicKeyPem(pem);
  if (typeof key === 'string') throw new Error(key);
  return key;
}

describe('simulator signature verification', () => {
  it('accepts Ed25519 (pure, 64 raw bytes) and refuses a signature of other data', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const key = parsed(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const sig = sign(null, data, privateKey);
    expect(sig).toHaveLength(64);
    expect(verifySignature(key, data, sig)).toBe(true);
    expect(verifySignature(key, Buffer.from('other'), sig)).toBe(false);
  });

  it.each(['prime256v1', 'secp256k1'])('accepts ECDSA %s DER over SHA-256, refuses raw r||s', (namedCurve) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
    const key = parsed(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect(verifySignature(key, data, sign('sha256', data, privateKey))).toBe(true);
    const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(raw).toHaveLength(64);
    expect(verifySignature(key, data, raw)).toBe(false);
    // The optional `algorithm` names the digest.
    expect(verifySignature(key, data, sign('sha512', data, privateKey), 'SHA512')).toBe(true);
    expect(verifySignature(key, data, sign('sha512', data, privateKey))).toBe(false);
  });

  it('accepts RSA PKCS#1 v1.5 SHA-256 from an SPKI or a PKCS#1 PEM, refuses PSS signatures', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = parsed(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const pkcs1 = parsed(publicKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    const sig = sign(undefined, data, privateKey);
    expect(verifySignature(spki, data, sig)).toBe(true);
    expect(verifySignature(pkcs1, data, sig)).toBe(true);
    expect(spki.fingerprint).toBe(pkcs1.fingerprint);
    const pss = sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
    expect(verifySignature(spki, data, pss)).toBe(false);
  });

  it('refuses non-PEM input and unsupported key types with a reason', () => {
    expect(parsePublicKeyPem('ssh-ed25519 AAAA')).toMatch(/must be a PEM public key/);
    expect(parsePublicKeyPem(42)).toMatch(/must be a PEM public key/);
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(parsePublicKeyPem(pss)).toMatch(/unsupported key type \(rsa-pss\)/);
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(parsePublicKeyPem(x25519)).toMatch(/unsupported key type/);
  });

  it('fingerprints keys as Dfns lists them: SHA256:<unpadded base64>', () => {
    const key = parsed(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
