import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { DfnsApiClient, DfnsAuthenticator } from '@dfns/sdk';
import { AsymmetricKeySigner } from '@dfns/sdk-keysigner';
import type { RunningSimulator, SeedFile } from '../../src/dfns/simulator/index.js';

/**
 * Helpers for the simulator contract tests: keys are generated per run (never committed), and
 * every call goes through the OFFICIAL @dfns/sdk client and signer, unchanged.
 */
export type TestKeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'ecdsa-secp256k1' | 'rsa-2048';

export const TEST_KEY_ALGORITHMS: readonly TestKeyAlgorithm[] = ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1', 'rsa-2048'];

export interface TestKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function makeKey(algorithm: TestKeyAlgorithm = 'ed25519'): TestKey {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (algorithm) {
    case 'ed25519': pair = generateKeyPairSync('ed25519'); break;
    case 'ecdsa-p256': pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }); break;
    case 'ecdsa-secp256k1': pair = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }); break;
    case 'rsa-2048': pair = generateKeyPairSync('rsa', { modulusLength: 2048 }); break;
  }
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Every permission the simulator checks, for an all-powerful operator. */
export const ALL_AUTH_OPERATIONS = [
  'Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Update',
  'Auth:ServiceAccounts:Activate', 'Auth:ServiceAccounts:Deactivate', 'Auth:ServiceAccounts:Delete',
  'Auth:Pats:Create', 'Permissions:Assign',
];

export const OPERATOR = 'operator@acme.test';
export const OPERATOR_CRED_ID = 'operator-key-1';
export const READ_DEACTIVATE_PERMISSION_ID = 'pm-simtest-readdeactivate';

/** An org with one admin operator (the given key) and a read+deactivate permission for SAs. */
export function operatorSeed(operatorKey: TestKey, extra: Partial<SeedFile> = {}): SeedFile {
  return {
    permissions: [
      { name: 'Admin', operations: ALL_AUTH_OPERATIONS },
      { id: READ_DEACTIVATE_PERMISSION_ID, name: 'SaReadDeactivate', operations: ['Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Deactivate'] },
      ...(extra.permissions ?? []),
    ],
    users: [
      { username: OPERATOR, permissions: ['Admin'], credentials: [{ credId: OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] },
      ...(extra.users ?? []),
    ],
    ...(extra.serviceAccounts ? { serviceAccounts: extra.serviceAccounts } : {}),
    ...(extra.pats ? { pats: extra.pats } : {}),
    ...(extra.generate ? { generate: extra.generate } : {}),
  };
}

export function signerFor(credId: string, key: TestKey): AsymmetricKeySigner {
  return new AsymmetricKeySigner({ credId, privateKey: key.privateKeyPem });
}

/** Logs in with the official DfnsAuthenticator and returns the login token. */
export async function loginToken(sim: RunningSimulator, username: string, credId: string, key: TestKey): Promise<string> {
  const auth = new DfnsAuthenticator({ baseUrl: sim.url, signer: signerFor(credId, key) });
  const answer = await auth.login({ username, orgId: sim.orgId });
  if (!('token' in answer)) throw new Error('login answered without a token');
  return answer.token;
}

export function clientFor(sim: RunningSimulator, authToken: string, credId: string, key: TestKey): DfnsApiClient {
  return new DfnsApiClient({ baseUrl: sim.url, orgId: sim.orgId, authToken, signer: signerFor(credId, key) });
}

export async function operatorClient(sim: RunningSimulator, key: TestKey): Promise<DfnsApiClient> {
  return clientFor(sim, await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, key), OPERATOR_CRED_ID, key);
}

/** The JWT payload, decoded without verification (as the SDK does for orgId). */
export function jwtClaims(token: string): Record<string, unknown> & { iat: number; exp?: number; 'https://custom/app_metadata': Record<string, string> } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/**
 * A Key credential attestation built per Dfns' api-objects docs: clientData compact and
 * alphabetical, fingerprint {clientDataHash, publicKey} signed by the new key, hex signature.
 */
export function keyAttestation(challenge: string, newKey: TestKey, signWith: TestKey = newKey) {
  const clientData = JSON.stringify({ challenge, type: 'key.create' });
  const fingerprint = JSON.stringify({
    clientDataHash: createHash('sha256').update(clientData).digest('hex'),
    publicKey: newKey.publicKeyPem,
  });
  const signature = sign(undefined, Buffer.from(fingerprint), signWith.privateKeyPem).toString('hex');
  return {
    clientData: Buffer.from(clientData).toString('base64url'),
    attestationData: Buffer.from(JSON.stringify({ publicKey: newKey.publicKeyPem, signature })).toString('base64url'),
  };
}
