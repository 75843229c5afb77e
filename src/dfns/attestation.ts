import { createHash, randomBytes } from 'node:crypto';
import { assertKeyPair, signWithPrivateKey } from './keys.js';

/**
 * The `key.create` attestation that registers a new Key credential (`POST /auth/credentials`).
 * `@dfns/sdk-keysigner` has no helper for it, so it is built here exactly as dfns-api.md §5
 * documents it (GitBook `advanced-topics/authentication/api-objects.md`):
 *
 * 1. clientData: compact JSON `{"challenge":…,"type":"key.create"}`, keys in alphabetical order
 *    (the docs require it; the server probably hashes the bytes it receives, but that is
 *    UNCONFIRMED, so follow the docs), sent base64url.
 * 2. fingerprint: compact JSON `{"clientDataHash":<hex SHA-256 of the clientData string>,"publicKey":<PEM>}`.
 * 3. signature: the fingerprint signed with the NEW private key (SHA-256, DER for ECDSA), hex.
 * 4. attestationData: base64url of compact JSON `{"publicKey":<PEM>,"signature":<hex>}`. The optional
 *    `algorithm` is left out, as the SDK does: Dfns then derives it from the key.
 */

export interface KeyAttestationInput {
  /** The `challenge` of `/auth/credentials/init`, signed exactly as received. */
  challenge: string;
  credId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface KeyCredentialInfo {
  credId: string;
  /** base64url */
  clientData: string;
  /** base64url */
  attestationData: string;
}

/** A fresh credential id: base64url of 32 random bytes, as the SDK's BrowserKeySigner does. */
export function newCredId(): string {
  return randomBytes(32).toString('base64url');
}

export function keyCreateClientData(challenge: string): string {
  return JSON.stringify({ challenge, type: 'key.create' });
}

export function keyCreateFingerprint(clientData: string, publicKeyPem: string): string {
  const clientDataHash = createHash('sha256').update(clientData, 'utf8').digest('hex');
  return JSON.stringify({ clientDataHash, publicKey: publicKeyPem });
}

export function buildKeyAttestation(input: KeyAttestationInput): KeyCredentialInfo {
  // A mismatched pair would be rejected by Dfns after a spent challenge; fail before any request.
  assertKeyPair(input.privateKeyPem, input.publicKeyPem, 'new key credential');
  const clientData = keyCreateClientData(input.challenge);
  const fingerprint = keyCreateFingerprint(clientData, input.publicKeyPem);
  const signature = signWithPrivateKey(input.privateKeyPem, fingerprint).toString('hex');
  const attestation = JSON.stringify({ publicKey: input.publicKeyPem, signature });
  return {
    credId: input.credId,
    clientData: Buffer.from(clientData, 'utf8').toString('base64url'),
    attestationData: Buffer.from(attestation, 'utf8').toString('base64url'),
  };
}
