import { verify } from 'node:crypto';
import { AsymmetricKeySigner } from '@dfns/sdk-keysigner';
import type { UserActionChallenge } from '@dfns/sdk';
import { describe, expect, it } from 'vitest';
import { KeySigner } from '../../src/dfns/key-signer.js';
import { generateKeyPair } from '../../src/dfns/keys.js';
import type { KeyAlgorithm } from '../../src/dfns/port.js';

/**
 * Our signer replaces @dfns/sdk-keysigner in the shipped package (it nests an old @dfns/sdk).
 * It must produce what the official signer produces: same clientData, signatures Dfns verifies
 * (dfns-api.md §2), byte-identical where the algorithm is deterministic (Ed25519, RSA PKCS#1 v1.5).
 */
const challenge = (ids: string[]): UserActionChallenge => ({
  supportedCredentialKinds: [{ kind: 'Key', factor: 'first', requiresSecondFactor: false }],
  challenge: 'Y2hhbGxlbmdlLWZyb20tZGZucw',
  challengeIdentifier: 'ci',
  externalAuthenticationUrl: '',
  allowCredentials: { key: ids.map((id) => ({ type: 'public-key' as const, id })), webauthn: [] },
  userVerification: 'required',
});

const ALGORITHMS: KeyAlgorithm[] = ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1', 'rsa-2048'];

describe('KeySigner', () => {
  it.each(ALGORITHMS)('%s: the same assertion as the official AsymmetricKeySigner, verifying as Dfns does', async (algorithm) => {
    const pair = await generateKeyPair(algorithm);
    const ours = await new KeySigner({ credId: 'cred-1', privateKey: pair.privateKeyPem }).sign(challenge(['other', 'cred-1']));
    const official = await new AsymmetricKeySigner({ credId: 'cred-1', privateKey: pair.privateKeyPem }).sign(challenge(['other', 'cred-1']));

    expect(ours.kind).toBe('Key');
    expect(ours.credentialAssertion.credId).toBe('cred-1');
    expect(ours.credentialAssertion.clientData).toBe(official.credentialAssertion.clientData);
    const clientData = Buffer.from(ours.credentialAssertion.clientData, 'base64url');
    expect(JSON.parse(clientData.toString('utf8'))).toEqual({ type: 'key.get', challenge: 'Y2hhbGxlbmdlLWZyb20tZGZucw' });
    expect(ours.credentialAssertion.signature).not.toMatch(/[=+/]/);
    const digest = algorithm === 'ed25519' ? null : 'sha256';
    for (const assertion of [ours, official]) {
      expect(verify(digest, clientData, pair.publicKeyPem, Buffer.from(assertion.credentialAssertion.signature, 'base64url'))).toBe(true);
    }
    expect(verify(digest, Buffer.from('tampered'), pair.publicKeyPem, Buffer.from(ours.credentialAssertion.signature, 'base64url'))).toBe(false);
    if (algorithm === 'ed25519' || algorithm.startsWith('rsa')) expect(ours.credentialAssertion.signature).toBe(official.credentialAssertion.signature);
    if (algorithm.startsWith('ecdsa')) expect(Buffer.from(ours.credentialAssertion.signature, 'base64url')[0]).toBe(0x30);
  });

  it('refuses a challenge that does not allow its credential, in the SDK error shape, without the key', async () => {
    const pair = await generateKeyPair('ed25519');
    const err = await new KeySigner({ credId: 'mine', privateKey: pair.privateKeyPem }).sign(challenge(['theirs'])).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DfnsError', httpStatus: -1, message: 'mine does not match allowed credentials: theirs' });
    expect(String((err as Error).message)).not.toContain('PRIVATE');
  });
});
