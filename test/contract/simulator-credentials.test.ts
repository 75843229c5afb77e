import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DfnsError, type DfnsApiClient } from '@dfns/sdk';
import { DEFAULT_KNOBS, startSimulator, type RunningSimulator } from '../../src/dfns/simulator/index.js';
import {
  OPERATOR, OPERATOR_CRED_ID, READ_DEACTIVATE_PERMISSION_ID, clientFor, keyAttestation, loginToken, makeKey,
  operatorClient, operatorSeed, type TestKey,
} from './simulator-helpers.js';

/** Key credential registration (/auth/credentials) with attestations built per Dfns' docs. */
async function status(promise: Promise<unknown>): Promise<number> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (!(err instanceof DfnsError)) throw new Error(`expected a DfnsError, got ${String(err)}`);
  return err.httpStatus;
}

async function registerKey(client: DfnsApiClient, credId: string, newKey: TestKey, signWith: TestKey = newKey) {
  const challenge = await client.auth.createCredentialChallenge({ body: { kind: 'Key' } });
  if (challenge.kind !== 'Key') throw new Error('expected a Key challenge');
  return client.auth.createCredential({
    body: {
      credentialKind: 'Key',
      credentialInfo: { credId, ...keyAttestation(challenge.challenge, newKey, signWith) },
      credentialName: `key ${credId}`,
      challengeIdentifier: challenge.challengeIdentifier,
    },
  });
}

describe('simulator Key credentials', () => {
  let sim: RunningSimulator;
  let operatorKey: TestKey;
  let dfns: DfnsApiClient;

  beforeAll(async () => {
    operatorKey = makeKey('ecdsa-p256');
    sim = await startSimulator({ seed: operatorSeed(operatorKey) });
    dfns = await operatorClient(sim, operatorKey);
  });
  afterEach(() => sim.setKnobs({ ...DEFAULT_KNOBS }));
  afterAll(() => sim.close());

  it.each(['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1', 'rsa-2048'] as const)(
    'registers a %s key with a real attestation; the user can then log in and sign with it', async (algorithm) => {
      const newKey = makeKey(algorithm);
      const credId = `rotated-${algorithm}`;
      const created = await registerKey(dfns, credId, newKey);
      expect(created).toMatchObject({ kind: 'Key', credentialId: credId, isActive: true, publicKey: newKey.publicKeyPem });
      expect(created.credentialUuid).toMatch(/^cr-/);
      expect((await dfns.auth.listCredentials()).items.map((c) => c.credentialId)).toContain(credId);

      const withNewKey = clientFor(sim, await loginToken(sim, OPERATOR, credId, newKey), credId, newKey);
      await withNewKey.auth.createServiceAccount({ body: { name: `signed-by-${algorithm}`, publicKey: makeKey().publicKeyPem } });
    },
  );

  it('refuses an attestation signed by another key, a non-canonical clientData and a reused challenge (400)', async () => {
    const newKey = makeKey();
    expect(await status(registerKey(dfns, 'bad-sig', newKey, makeKey()))).toBe(400);

    const challenge = await dfns.auth.createCredentialChallenge({ body: { kind: 'Key' } });
    if (challenge.kind !== 'Key') throw new Error('expected a Key challenge');
    const typeFirst = Buffer.from(JSON.stringify({ type: 'key.create', challenge: challenge.challenge })).toString('base64url');
    const { attestationData } = keyAttestation(challenge.challenge, newKey);
    expect(await status(dfns.auth.createCredential({
      body: { credentialKind: 'Key', credentialInfo: { credId: 'non-canonical', clientData: typeFirst, attestationData }, credentialName: 'x', challengeIdentifier: challenge.challengeIdentifier },
    }))).toBe(400);
    // The challenge was used by that attempt: even a correct attestation now fails.
    expect(await status(dfns.auth.createCredential({
      body: { credentialKind: 'Key', credentialInfo: { credId: 'reused', ...keyAttestation(challenge.challenge, newKey) }, credentialName: 'x', challengeIdentifier: challenge.challengeIdentifier },
    }))).toBe(400);
    expect((await dfns.auth.listCredentials()).items.map((c) => c.credentialId)).not.toContain('reused');
  });

  it('refuses a credId already registered (409)', async () => {
    expect(await status(registerKey(dfns, OPERATOR_CRED_ID, makeKey()))).toBe(409);
  });

  it('deactivating a credential removes it from allowCredentials; activating restores it', async () => {
    const spare = makeKey();
    const created = await registerKey(dfns, 'spare', spare);
    const withSpare = clientFor(sim, await loginToken(sim, OPERATOR, 'spare', spare), 'spare', spare);
    await dfns.auth.deactivateCredential({ body: { credentialUuid: created.credentialUuid } });
    const refused = await withSpare.auth.createServiceAccount({ body: { name: 'never', publicKey: makeKey().publicKeyPem } }).catch((e: unknown) => e);
    // AsymmetricKeySigner itself refuses a credId the challenge does not allow.
    expect((refused as DfnsError).httpStatus).toBe(-1);
    expect((await dfns.auth.listCredentials()).items.find((c) => c.credentialUuid === created.credentialUuid)?.isActive).toBe(false);
    await dfns.auth.activateCredential({ body: { credentialUuid: created.credentialUuid } });
    await withSpare.auth.createServiceAccount({ body: { name: 'spare-again', publicKey: makeKey().publicKeyPem } });
  });

  it('refuses SA and PAT tokens (403) unless tokensMayManageCredentials; then an SA rotates its own key', async () => {
    const saKey = makeKey();
    const sa = await dfns.auth.createServiceAccount({ body: { name: 'rekeyed-sa', publicKey: saKey.publicKeyPem, permissionId: READ_DEACTIVATE_PERMISSION_ID } });
    const saToken = sa.accessTokens[0]!;
    const asSa = clientFor(sim, saToken.accessToken!, saToken.credId, saKey);
    expect(await status(asSa.auth.createCredentialChallenge({ body: { kind: 'Key' } }))).toBe(403);
    expect(await status(asSa.auth.listCredentials())).toBe(403);

    const patKey = makeKey();
    const pat = await dfns.auth.createPersonalAccessToken({ body: { name: 'rekeyed-pat', publicKey: patKey.publicKeyPem } });
    const asPat = clientFor(sim, pat.accessToken, pat.credId, patKey);
    expect(await status(asPat.auth.createCredentialChallenge({ body: { kind: 'Key' } }))).toBe(403);

    sim.setKnobs({ tokensMayManageCredentials: true });
    const newSaKey = makeKey('ecdsa-p256');
    await registerKey(asSa, 'sa-key-2', newSaKey);
    const asSaNewKey = clientFor(sim, saToken.accessToken!, 'sa-key-2', newSaKey);
    const target = await dfns.auth.createServiceAccount({ body: { name: 'rekey-target', publicKey: makeKey().publicKeyPem } });
    await asSaNewKey.auth.deactivateServiceAccount({ serviceAccountId: target.userInfo.userId, body: {} });
    const saCreds = (await asSa.auth.listCredentials()).items.map((c) => c.credentialId).sort();
    expect(saCreds).toEqual(['sa-key-2', saToken.credId].sort());

    const newPatKey = makeKey();
    await registerKey(asPat, 'pat-key-2', newPatKey);
    expect((await asPat.auth.listCredentials()).items.map((c) => c.credentialId)).toContain('pat-key-2');
    // The PAT's credentials are the PAT's own, not its owner's.
    expect((await dfns.auth.listCredentials()).items.map((c) => c.credentialId)).not.toContain('pat-key-2');
  });
});
