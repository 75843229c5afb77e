import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildKeyAttestation, newCredId } from '../../src/dfns/attestation.js';
import { InvalidKeyError, generateKeyPair } from '../../src/dfns/keys.js';
import { KEY_ALGORITHMS } from '../../src/dfns/port.js';

/**
 * An independent verifier written from dfns-api.md §5, not from attestation.ts: what a Dfns
 * server would check for a `key.create` attestation.
 */
function verifyAsDocumented(challenge: string, info: { credId: string; clientData: string; attestationData: string }) {
  const clientDataText = Buffer.from(info.clientData, 'base64url').toString('utf8');
  const clientData = JSON.parse(clientDataText) as Record<string, unknown>;
  const attestation = JSON.parse(Buffer.from(info.attestationData, 'base64url').toString('utf8')) as {
    publicKey: string;
    signature: string;
    algorithm?: string;
  };
  const fingerprint = JSON.stringify({
    clientDataHash: createHash('sha256').update(clientDataText).digest('hex'),
    publicKey: attestation.publicKey,
  });
  // Digest per key type (§2): none for Ed25519, SHA-256 for ECDSA (DER) and RSA (PKCS#1 v1.5).
  const isEd25519 = createPublicKey(attestation.publicKey).asymmetricKeyType === 'ed25519';
  const signatureOk = verify(isEd25519 ? null : 'sha256', Buffer.from(fingerprint), attestation.publicKey, Buffer.from(attestation.signature, 'hex'));
  return { clientDataText, clientData, attestation, signatureOk, challengeMatches: clientData.challenge === challenge && clientData.type === 'key.create' };
}

describe('buildKeyAttestation', () => {
  it.each(KEY_ALGORITHMS)('%s: verifies per the documented rules', async (algorithm) => {
    const pair = await generateKeyPair(algorithm);
    const challenge = 'Y2hhbGxlbmdlLWZyb20tZGZucw';
    const credId = newCredId();
    const info = buildKeyAttestation({ challenge, credId, ...pair });

    expect(info.credId).toBe(credId);
    for (const field of [info.clientData, info.attestationData]) expect(field).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, unpadded
    const checked = verifyAsDocumented(challenge, info);
    // Compact, keys in alphabetical order, exactly these two fields.
    expect(checked.clientDataText).toBe(`{"challenge":"${challenge}","type":"key.create"}`);
    expect(Object.keys(checked.attestation)).toEqual(['publicKey', 'signature']);
    expect(checked.attestation.publicKey).toBe(pair.publicKeyPem);
    expect(checked.attestation.signature).toMatch(/^[0-9a-f]+$/); // hex, not base64url
    expect(checked.signatureOk).toBe(true);
    expect(checked.challengeMatches).toBe(true);
  });

  it('does not verify when the challenge differs (the signature covers clientData)', async () => {
    const pair = await generateKeyPair('ecdsa-p256');
    const info = buildKeyAttestation({ challenge: 'abc', credId: 'c1', ...pair });
    const forged = { ...info, clientData: Buffer.from('{"challenge":"xyz","type":"key.create"}').toString('base64url') };
    expect(verifyAsDocumented('xyz', forged).signatureOk).toBe(false);
  });

  it('refuses a private key that is not the pair of the public key', async () => {
    const a = await generateKeyPair('ed25519');
    const b = await generateKeyPair('ed25519');
    expect(() => buildKeyAttestation({ challenge: 'abc', credId: 'c1', privateKeyPem: a.privateKeyPem, publicKeyPem: b.publicKeyPem })).toThrow(InvalidKeyError);
  });

  it('makes unique 32-byte base64url credential ids', () => {
    const ids = new Set(Array.from({ length: 50 }, newCredId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(32);
  });
});
