import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DfnsError } from '@dfns/sdk';
import { startSimulator, type RunningSimulator } from '../../src/dfns/simulator/index.js';
import {
  OPERATOR, READ_DEACTIVATE_PERMISSION_ID, TEST_KEY_ALGORITHMS, clientFor, jwtClaims, loginToken, makeKey,
  operatorClient, operatorSeed, type TestKey,
} from './simulator-helpers.js';

const DAY_S = 86_400;

/**
 * The official @dfns/sdk (DfnsApiClient + AsymmetricKeySigner + DfnsAuthenticator), unchanged,
 * against the simulator: the full service-account and PAT life cycle for every key algorithm.
 */
describe.each(TEST_KEY_ALGORITHMS)('official SDK against the simulator with %s keys', (algorithm) => {
  let sim: RunningSimulator;
  let operatorKey: TestKey;

  beforeAll(async () => {
    operatorKey = makeKey(algorithm);
    sim = await startSimulator({ seed: operatorSeed(operatorKey) });
  });
  afterAll(() => sim.close());

  it('logs in as the seeded org user and gets a token scoped to the org', async () => {
    const token = await loginToken(sim, OPERATOR, 'operator-key-1', operatorKey);
    const claims = jwtClaims(token);
    expect(claims['https://custom/app_metadata']).toMatchObject({ orgId: sim.orgId, tokenKind: 'Token' });
    expect(claims.exp! - claims.iat).toBe(sim.knobs.loginTokenSeconds);
  });

  it('creates, lists, gets, deactivates and archives a service account', async () => {
    const dfns = await operatorClient(sim, operatorKey);
    const saKey = makeKey(algorithm);
    const created = await dfns.auth.createServiceAccount({
      body: { name: `sa-${algorithm}`, publicKey: saKey.publicKeyPem, daysValid: 90, permissionId: READ_DEACTIVATE_PERMISSION_ID },
    });
    const id = created.userInfo.userId;
    expect(created.userInfo).toMatchObject({ isServiceAccount: true, isActive: true, orgId: sim.orgId, kind: 'CustomerEmployee' });
    expect(created.userInfo.permissionAssignments.map((a) => a.permissionId)).toEqual([READ_DEACTIVATE_PERMISSION_ID]);
    const [token] = created.accessTokens;
    expect(token?.accessToken).toBeTypeOf('string');
    expect(token?.publicKey).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const claims = jwtClaims(token!.accessToken!);
    expect(claims['https://custom/app_metadata']).toEqual({ orgId: sim.orgId, userId: id, tokenId: token!.tokenId, tokenKind: 'ServiceAccount' });
    expect(claims.exp! - claims.iat).toBe(90 * DAY_S);

    const listed = await dfns.auth.listServiceAccounts();
    const item = listed.items.find((i) => i.userInfo.userId === id);
    expect(item?.accessTokens[0]).not.toHaveProperty('accessToken');
    expect(item?.accessTokens[0]?.tokenId).toBe(token!.tokenId);
    expect((await dfns.auth.getServiceAccount({ serviceAccountId: id })).userInfo.name).toBe(`sa-${algorithm}`);

    const deactivated = await dfns.auth.deactivateServiceAccount({ serviceAccountId: id, body: {} });
    expect(deactivated.userInfo.isActive).toBe(false);
    expect(deactivated.accessTokens[0]?.isActive).toBe(false);
    const stillListed = (await dfns.auth.listServiceAccounts()).items.find((i) => i.userInfo.userId === id);
    expect(stillListed?.userInfo.isActive).toBe(false);

    await dfns.auth.archiveServiceAccount({ serviceAccountId: id });
    expect((await dfns.auth.listServiceAccounts()).items.some((i) => i.userInfo.userId === id)).toBe(false);
    const missing = await dfns.auth.getServiceAccount({ serviceAccountId: id }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DfnsError);
    expect((missing as DfnsError).httpStatus).toBe(404);
  });

  it('creates, lists, gets, deactivates and archives a PAT', async () => {
    const dfns = await operatorClient(sim, operatorKey);
    const patKey = makeKey(algorithm);
    const created = await dfns.auth.createPersonalAccessToken({
      body: { name: `pat-${algorithm}`, publicKey: patKey.publicKeyPem, daysValid: 30, externalId: 'rotator:1' },
    });
    expect(created.kind).toBe('Pat');
    expect(created.isActive).toBe(true);
    const claims = jwtClaims(created.accessToken);
    expect(claims['https://custom/app_metadata']).toMatchObject({ orgId: sim.orgId, tokenId: created.tokenId, tokenKind: 'Pat' });
    expect(claims.exp! - claims.iat).toBe(30 * DAY_S);

    const listed = await dfns.auth.listPersonalAccessTokens();
    expect(listed.items.map((p) => p.tokenId)).toContain(created.tokenId);
    expect(listed.items[0]).not.toHaveProperty('accessToken');
    expect((await dfns.auth.getPersonalAccessToken({ tokenId: created.tokenId })).name).toBe(`pat-${algorithm}`);

    expect((await dfns.auth.deactivatePersonalAccessToken({ tokenId: created.tokenId })).isActive).toBe(false);
    expect((await dfns.auth.activatePersonalAccessToken({ tokenId: created.tokenId })).isActive).toBe(true);
    await dfns.auth.archivePersonalAccessToken({ tokenId: created.tokenId });
    expect((await dfns.auth.listPersonalAccessTokens()).items.some((p) => p.tokenId === created.tokenId)).toBe(false);
    await expect(dfns.auth.getPersonalAccessToken({ tokenId: created.tokenId })).rejects.toMatchObject({ httpStatus: 404 });
  });

  it('a created SA lists SAs and deactivates another SA with its own token and key', async () => {
    const dfns = await operatorClient(sim, operatorKey);
    const watcherKey = makeKey(algorithm);
    const watcher = await dfns.auth.createServiceAccount({
      body: { name: `watcher-${algorithm}`, publicKey: watcherKey.publicKeyPem, permissionId: READ_DEACTIVATE_PERMISSION_ID },
    });
    const victim = await dfns.auth.createServiceAccount({ body: { name: `victim-${algorithm}`, publicKey: makeKey(algorithm).publicKeyPem } });
    const watcherToken = watcher.accessTokens[0]!;
    const asWatcher = clientFor(sim, watcherToken.accessToken!, watcherToken.credId, watcherKey);

    const seen = await asWatcher.auth.listServiceAccounts();
    expect(seen.items.map((i) => i.userInfo.userId)).toContain(victim.userInfo.userId);
    // SDK 0.8.3 sent `{}`; 0.8.21 sends the caller's body, possibly none: both must sign and verify.
    const after = await asWatcher.auth.deactivateServiceAccount({ serviceAccountId: victim.userInfo.userId } as never);
    expect(after.userInfo.isActive).toBe(false);
  });
});
