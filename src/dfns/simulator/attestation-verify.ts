import { createHash } from 'node:crypto';
import { decodeBase64Url } from './ids.js';
import { badRequest } from './dfns-errors.js';
import { checkAlgorithm, parsePublicKeyPem, verifySignature, type ParsedPublicKey } from './signatures.js';

/**
 * Key credential attestation (`POST /auth/credentials`, kind Key), per Dfns' api-objects docs
 * (dfns-api.md §5):
 * 1. clientData = base64url of `{"challenge":<challenge>,"type":"key.create"}`.
 * 2. fingerprint = `{"clientDataHash":<hex sha256 of that JSON string>,"publicKey":<PEM>}`,
 *    compact, keys in that order.
 * 3. attestationData = base64url of `{"publicKey":<PEM>,"signature":<hex>,"algorithm"?}`, the
 *    signature made over the fingerprint string with the NEW key (SHA-256, DER for ECDSA).
 *
 * UNCONFIRMED whether Dfns hashes the clientData bytes it receives or re-serialises them; the
 * docs require the compact, alphabetical form so the hash is reproducible. The simulator is
 * strict: clientData must be exactly that canonical form, so a client that passes here passes
 * under either server behaviour. Every refusal is 400 naming the part at fault.
 */
export interface VerifiedAttestation {
  publicKeyPem: string;
  key: ParsedPublicKey;
}

export function canonicalCreateClientData(challenge: string): string {
  return JSON.stringify({ challenge, type: 'key.create' });
}

export function verifyKeyAttestation(
  credentialInfo: { clientData: string; attestationData: string },
  expectedChallenge: string,
): VerifiedAttestation {
  const clientDataBytes = decodeBase64Url(credentialInfo.clientData);
  if (!clientDataBytes) throw badRequest('credentialInfo.clientData must be base64url');
  const clientDataText = clientDataBytes.toString('utf8');
  let clientData: { type?: unknown; challenge?: unknown };
  try {
    clientData = JSON.parse(clientDataText) as typeof clientData;
  } catch {
    throw badRequest('credentialInfo.clientData must be base64url-encoded JSON');
  }
  if (clientData?.type !== 'key.create') throw badRequest('credentialInfo.clientData.type must be "key.create"');
  if (clientData.challenge !== expectedChallenge) throw badRequest('credentialInfo.clientData.challenge does not match the issued challenge');
  if (clientDataText !== canonicalCreateClientData(expectedChallenge)) {
    throw badRequest('credentialInfo.clientData must be compact JSON with keys in alphabetical order: {"challenge":…,"type":"key.create"}');
  }

  const attestationBytes = decodeBase64Url(credentialInfo.attestationData);
  if (!attestationBytes) throw badRequest('credentialInfo.attestationData must be base64url');
  let attestation: { publicKey?: unknown; signature?: unknown; algorithm?: unknown };
  try {
    attestation = JSON.parse(attestationBytes.toString('utf8')) as typeof attestation;
  } catch {
    throw badRequest('credentialInfo.attestationData must be base64url-encoded JSON');
  }
  if (typeof attestation?.publicKey !== 'string') throw badRequest('attestationData.publicKey must be a PEM string');
  const key = parsePublicKeyPem(attestation.publicKey);
  if (typeof key === 'string') throw badRequest(`attestationData.publicKey ${key}`);
  if (typeof attestation.signature !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(attestation.signature)) {
    throw badRequest('attestationData.signature must be a hex string');
  }
  if (attestation.algorithm !== undefined && typeof attestation.algorithm !== 'string') {
    throw badRequest('attestationData.algorithm must be a string');
  }
  const algorithmProblem = checkAlgorithm(attestation.algorithm);
  if (algorithmProblem) throw badRequest(`attestationData.${algorithmProblem}`);

  const clientDataHash = createHash('sha256').update(clientDataText).digest('hex');
  const fingerprint = JSON.stringify({ clientDataHash, publicKey: attestation.publicKey });
  const signature = Buffer.from(attestation.signature, 'hex');
  if (!verifySignature(key, Buffer.from(fingerprint), signature, attestation.algorithm)) {
    throw badRequest('attestationData.signature does not verify: it must sign {"clientDataHash","publicKey"} with the new key');
  }
  return { publicKeyPem: attestation.publicKey, key };
}
