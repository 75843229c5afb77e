import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidKeyError,
  assertKeyPair,
  assertPublicKeyPem,
  detectKeyAlgorithm,
  generateKeyPair,
  privateKeyMatchesPublicKey,
  publicKeyFromPrivate,
  signWithPrivateKey,
} from '../../src/dfns/keys.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../src/dfns/port.js';

/** How Dfns verifies each kind (dfns-api.md §2). */
function dfnsVerify(publicKeyPem: string, data: Buffer, signature: Buffer, algorithm: KeyAlgorithm): boolean {
  return verify(algorithm === 'ed25519' ? null : 'sha256', data, publicKeyPem, signature);
}

describe('keys', () => {
  it.each(KEY_ALGORITHMS)('%s: PEMs, detection, sign/verify round trip', async (algorithm) => {
    const pair = await generateKeyPair(algorithm);
    expect(pair.algorithm).toBe(algorithm);
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(detectKeyAlgorithm(pair.privateKeyPem)).toBe(algorithm);
    expect(detectKeyAlgorithm(pair.publicKeyPem)).toBe(algorithm);
    expect(publicKeyFromPrivate(pair.privateKeyPem)).toBe(pair.publicKeyPem);
    expect(privateKeyMatchesPublicKey(pair.privateKeyPem, pair.publicKeyPem)).toBe(true);

    const data = Buffer.from('{"type":"key.get","challenge":"abc"}');
    const signature = signWithPrivateKey(pair.privateKeyPem, data);
    expect(dfnsVerify(pair.publicKeyPem, data, signature, algorithm)).toBe(true);
    expect(dfnsVerify(pair.publicKeyPem, Buffer.from('tampered'), signature, algorithm)).toBe(false);
    if (algorithm === 'ed25519') expect(signature).toHaveLength(64);
    if (algorithm.startsWith('ecdsa')) expect(signature[0]).toBe(0x30); // DER, not raw r||s
  });

  it('defaults to ECDSA P-256', async () => {
    expect((await generateKeyPair()).algorithm).toBe('ecdsa-p256');
  });

  it('detects a mismatched pair, including across algorithms', async () => {
    const a = await generateKeyPair('ed25519');
    const b = await generateKeyPair('ed25519');
    const c = await generateKeyPair('ecdsa-p256');
    expect(privateKeyMatchesPublicKey(a.privateKeyPem, b.publicKeyPem)).toBe(false);
    expect(privateKeyMatchesPublicKey(a.privateKeyPem, c.publicKeyPem)).toBe(false);
    expect(() => assertKeyPair(a.privateKeyPem, b.publicKeyPem, 'rotation key')).toThrow(/rotation key: the private key does not match/);
  });

  it('assertPublicKeyPem refuses a private key passed as a public one', async () => {
    const pair = await generateKeyPair('ed25519');
    expect(assertPublicKeyPem(pair.publicKeyPem)).toBe('ed25519');
    expect(() => assertPublicKeyPem(pair.privateKeyPem, 'publicKeyPem')).toThrow(/publicKeyPem must be a PEM public key/);
    expect(() => assertPublicKeyPem('not a pem')).toThrow(InvalidKeyError);
    try {
      assertPublicKeyPem(pair.privateKeyPem);
    } catch (err) {
      expect((err as Error).message).not.toContain(pair.privateKeyPem.split('\n')[1]);
    }
  });

  it('accepts a PKCS#1 RSA PUBLIC KEY PEM when matching', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(privateKeyMatchesPublicKey(privatePem, pkcs1)).toBe(true);
  });

  it('refuses unsupported keys with a message naming the kind, never the PEM', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => detectKeyAlgorithm(p384)).toThrow(/unsupported EC curve secp384r1/);
    expect(() => detectKeyAlgorithm(ed448)).toThrow(/unsupported key type ed448/);
    expect(() => detectKeyAlgorithm(rsa1024)).toThrow(/unsupported RSA size 1024/);
    const garbage = '-----BEGIN PRIVATE KEY-----\nMIIsecretsecretsecret\n-----END PRIVATE KEY-----\n';
    try {
      publicKeyFromPrivate(garbage);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidKeyError);
      expect((err as Error).message).not.toContain('secretsecret');
    }
    await expect(generateKeyPair('dsa' as KeyAlgorithm)).rejects.toThrow(/unsupported key algorithm dsa/);
  });
});
