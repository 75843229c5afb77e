import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BaseAuthApi, DfnsAuthenticator, DfnsError, PolicyPendingError, type DfnsApiClient } from '@dfns/sdk';
import { DEFAULT_KNOBS, startSimulator, type RunningSimulator } from '../../src/dfns/simulator/index.js';
import {
  OPERATOR, OPERATOR_CRED_ID, READ_DEACTIVATE_PERMISSION_ID, clientFor, loginToken, makeKey, operatorClient,
  operatorSeed, signerFor, type TestKey,
} from './simulator-helpers.js';

/** Every refusal Dfns documents, through the official SDK (or raw HTTP where the SDK can't misbehave). */
async function failure(promise: Promise<unknown>): Promise<DfnsError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (!(err instanceof DfnsError)) throw new Error(`expected a DfnsError, got ${String(err)}`);
  return err;
}

describe('simulator refusals', () => {
  let sim: RunningSimulator;
  let operatorKey: TestKey;
  let dfns: DfnsApiClient;
  let operatorToken: string;
  let readerKey: TestKey;

  beforeAll(async () => {
    operatorKey = makeKey('ed25519');
    readerKey = makeKey('ed25519');
    sim = await startSimulator({
      seed: operatorSeed(operatorKey, {
        permissions: [{ name: 'ReadOnly', operations: ['Auth:ServiceAccounts:Read'] }],
        users: [{ username: 'reader@acme.test', permissions: ['ReadOnly'], credentials: [{ credId: 'reader-key', publicKeyPem: readerKey.publicKeyPem }] }],
        // A PAT assigned more than its owner has: it may only use the intersection.
        pats: [{ name: 'reader-admin-pat', owner: 'reader@acme.test', permission: 'Admin', credId: 'reader-pat-key', publicKeyPem: readerKey.publicKeyPem }],
      }),
    });
    operatorToken = await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, operatorKey);
    dfns = clientFor(sim, operatorToken, OPERATOR_CRED_ID, operatorKey);
  });
  afterEach(() => sim.setKnobs({ ...DEFAULT_KNOBS }));
  afterAll(() => sim.close());

  /** A signed user action for one method/path/payload, via the SDK's own signing calls. */
  async function userActionFor(method: 'POST' | 'PUT' | 'DELETE', path: string, payload: string): Promise<string> {
    const options = { baseUrl: sim.url, authToken: operatorToken, orgId: sim.orgId };
    const challenge = await BaseAuthApi.createUserActionChallenge(
      { userActionHttpMethod: method, userActionHttpPath: path, userActionPayload: payload, userActionServerKind: 'Api' },
      options,
    );
    const assertion = await signerFor(OPERATOR_CRED_ID, operatorKey).sign(challenge);
    return (await BaseAuthApi.signUserActionChallenge({ challengeIdentifier: challenge.challengeIdentifier, firstFactor: assertion }, options)).userAction;
  }

  async function raw(method: string, path: string, body: string, userAction?: string) {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${operatorToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(userAction ? { 'x-dfns-useraction': userAction } : {}),
      },
      ...(body ? { body } : {}),
    });
    return { status: res.status, body: (await res.json()) as { error?: { id: string; status: number; message: string } } };
  }

  describe('signatures', () => {
    it('refuses a login signed with another key (401)', async () => {
      const forger = new DfnsAuthenticator({ baseUrl: sim.url, signer: signerFor(OPERATOR_CRED_ID, makeKey('ed25519')) });
      const err = await failure(forger.login({ username: OPERATOR, orgId: sim.orgId }));
      expect(err.httpStatus).toBe(401);
      expect(err.message).toBe('signature verification failed');
    });

    it('refuses a user action signed with another key (401) and performs nothing', async () => {
      const forged = clientFor(sim, operatorToken, OPERATOR_CRED_ID, makeKey('ed25519'));
      const err = await failure(forged.auth.createServiceAccount({ body: { name: 'forged', publicKey: makeKey().publicKeyPem } }));
      expect(err.httpStatus).toBe(401);
      expect((await dfns.auth.listServiceAccounts()).items.some((i) => i.userInfo.name === 'forged')).toBe(false);
    });

    it('refuses an unknown user (401 "User not found") and a service account trying to log in', async () => {
      const auth = new DfnsAuthenticator({ baseUrl: sim.url, signer: signerFor(OPERATOR_CRED_ID, operatorKey) });
      expect((await failure(auth.login({ username: 'nobody', orgId: sim.orgId }))).message).toBe('User not found');
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'cannot-login', publicKey: makeKey().publicKeyPem } });
      expect((await failure(auth.login({ username: sa.userInfo.username, orgId: sim.orgId }))).httpStatus).toBe(401);
    });
  });

  describe('user actions', () => {
    const path = '/auth/service-accounts';

    it('a user action works once; the replay gets 400 "user action has already been used"', async () => {
      const body = JSON.stringify({ name: 'replayed', publicKey: makeKey().publicKeyPem });
      const userAction = await userActionFor('POST', path, body);
      expect((await raw('POST', path, body, userAction)).status).toBe(200);
      const replay = await raw('POST', path, body, userAction);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toMatchObject({ status: 400, message: 'user action has already been used' });
      expect(replay.body.error?.id).toBeTypeOf('string');
    });

    it('refuses a user action used on another path (403)', async () => {
      const body = JSON.stringify({ name: 'other-path', publicKey: makeKey().publicKeyPem });
      const userAction = await userActionFor('POST', '/auth/pats', body);
      const res = await raw('POST', path, body, userAction);
      expect(res.status).toBe(403);
      expect(res.body.error?.message).toBe('user action signature is missing or invalid');
    });

    it('refuses a user action used with another payload (403), even a whitespace change', async () => {
      const body = JSON.stringify({ name: 'other-payload', publicKey: makeKey().publicKeyPem });
      const userAction = await userActionFor('POST', path, body);
      expect((await raw('POST', path, `${body} `, userAction)).status).toBe(403);
    });

    it('refuses a mutation without X-DFNS-USERACTION (403) and a forged header (403)', async () => {
      const body = JSON.stringify({ name: 'unsigned', publicKey: makeKey().publicKeyPem });
      expect((await raw('POST', path, body)).body.error).toMatchObject({ status: 403, message: 'user action signature is missing or invalid' });
      const userAction = await userActionFor('POST', path, body);
      const [h, p] = userAction.split('.');
      expect((await raw('POST', path, body, `${h}.${p}.${'A'.repeat(86)}`)).status).toBe(403);
    });

    it('refuses a user action older than userActionTtlSeconds (403)', async () => {
      const body = JSON.stringify({ name: 'stale', publicKey: makeKey().publicKeyPem });
      const userAction = await userActionFor('POST', path, body);
      sim.clock.advance(sim.knobs.userActionTtlSeconds * 1000);
      expect((await raw('POST', path, body, userAction)).status).toBe(403);
      operatorToken = await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, operatorKey);
      dfns = clientFor(sim, operatorToken, OPERATOR_CRED_ID, operatorKey);
    });

    it('signs the pathname only by default; with userActionPathIncludesQuery the SDK signature misses the query (403)', async () => {
      const a = await dfns.auth.createServiceAccount({ body: { name: 'archive-q1', publicKey: makeKey().publicKeyPem } });
      await dfns.auth.archiveServiceAccount({ serviceAccountId: a.userInfo.userId, query: { force: true } });
      sim.setKnobs({ userActionPathIncludesQuery: true });
      const b = await dfns.auth.createServiceAccount({ body: { name: 'archive-q2', publicKey: makeKey().publicKeyPem } });
      const err = await failure(dfns.auth.archiveServiceAccount({ serviceAccountId: b.userInfo.userId, query: { force: true } }));
      expect(err.httpStatus).toBe(403);
      await dfns.auth.archiveServiceAccount({ serviceAccountId: b.userInfo.userId });
    });
  });

  describe('tokens', () => {
    it('refuses a login token after it expires on the simulator clock (401)', async () => {
      const token = await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, operatorKey);
      const client = clientFor(sim, token, OPERATOR_CRED_ID, operatorKey);
      await client.auth.listServiceAccounts();
      sim.clock.advance(sim.knobs.loginTokenSeconds * 1000);
      const err = await failure(client.auth.listServiceAccounts());
      expect(err.httpStatus).toBe(401);
      expect(err.message).toBe('user token is missing or invalid');
      operatorToken = await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, operatorKey);
      dfns = clientFor(sim, operatorToken, OPERATOR_CRED_ID, operatorKey);
    });

    it('refuses an SA token after daysValid (401), while the SA stays listed as active', async () => {
      const key = makeKey();
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'one-day', publicKey: key.publicKeyPem, daysValid: 1, permissionId: READ_DEACTIVATE_PERMISSION_ID } });
      const asSa = clientFor(sim, sa.accessTokens[0]!.accessToken!, sa.accessTokens[0]!.credId, key);
      await asSa.auth.listServiceAccounts();
      sim.clock.advance(86_400_000);
      expect((await failure(asSa.auth.listServiceAccounts())).httpStatus).toBe(401);
      const fresh = await operatorClient(sim, operatorKey);
      const listed = (await fresh.auth.listServiceAccounts()).items.find((i) => i.userInfo.userId === sa.userInfo.userId);
      expect(listed?.accessTokens[0]?.isActive).toBe(true);
      operatorToken = await loginToken(sim, OPERATOR, OPERATOR_CRED_ID, operatorKey);
      dfns = clientFor(sim, operatorToken, OPERATOR_CRED_ID, operatorKey);
    });

    it('refuses the token of a deactivated SA and of a deactivated PAT (401); reactivation restores them', async () => {
      const key = makeKey();
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'to-deactivate', publicKey: key.publicKeyPem, permissionId: READ_DEACTIVATE_PERMISSION_ID } });
      const asSa = clientFor(sim, sa.accessTokens[0]!.accessToken!, sa.accessTokens[0]!.credId, key);
      await dfns.auth.deactivateServiceAccount({ serviceAccountId: sa.userInfo.userId, body: {} });
      expect((await failure(asSa.auth.listServiceAccounts())).httpStatus).toBe(401);
      await dfns.auth.activateServiceAccount({ serviceAccountId: sa.userInfo.userId });
      await asSa.auth.listServiceAccounts();

      const patKey = makeKey();
      const pat = await dfns.auth.createPersonalAccessToken({ body: { name: 'to-deactivate', publicKey: patKey.publicKeyPem } });
      const asPat = clientFor(sim, pat.accessToken, pat.credId, patKey);
      await asPat.auth.listPersonalAccessTokens();
      await dfns.auth.deactivatePersonalAccessToken({ tokenId: pat.tokenId });
      expect((await failure(asPat.auth.listPersonalAccessTokens())).httpStatus).toBe(401);
    });

    it('refuses a token signed by someone else, and an edited one (401)', async () => {
      const [h, p, s] = operatorToken.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      claims.exp = claims.exp + 1;
      const edited = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      const err = await failure(clientFor(sim, edited, OPERATOR_CRED_ID, operatorKey).auth.listServiceAccounts());
      expect(err.httpStatus).toBe(401);
      const other = await startSimulator({ seed: { ...operatorSeed(operatorKey), orgId: sim.orgId } });
      try {
        const foreign = await loginToken(other, OPERATOR, OPERATOR_CRED_ID, operatorKey);
        expect((await failure(clientFor(sim, foreign, OPERATOR_CRED_ID, operatorKey).auth.listServiceAccounts())).httpStatus).toBe(401);
      } finally {
        await other.close();
      }
    });
  });

  describe('who may do what', () => {
    it('an SA cannot create an SA or a PAT (403), whatever its permissions', async () => {
      const key = makeKey();
      sim.setKnobs({ serviceAccountInheritsPermissions: true });
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'admin-sa', publicKey: key.publicKeyPem } });
      expect(sa.userInfo.permissionAssignments.map((a) => a.permissionName)).toEqual(['Admin']);
      const asSa = clientFor(sim, sa.accessTokens[0]!.accessToken!, sa.accessTokens[0]!.credId, key);
      expect((await failure(asSa.auth.createServiceAccount({ body: { name: 'child', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(403);
      expect((await failure(asSa.auth.createPersonalAccessToken({ body: { name: 'child', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(403);
      expect((await asSa.auth.listPersonalAccessTokens()).items).toEqual([]);
    });

    it('a PAT cannot create a PAT or an SA (403), nor deactivate an SA (403); it lists its owner\'s PATs', async () => {
      const key = makeKey();
      const pat = await dfns.auth.createPersonalAccessToken({ body: { name: 'admin-pat', publicKey: key.publicKeyPem } });
      const asPat = clientFor(sim, pat.accessToken, pat.credId, key);
      expect((await failure(asPat.auth.createPersonalAccessToken({ body: { name: 'child', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(403);
      expect((await failure(asPat.auth.createServiceAccount({ body: { name: 'child', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(403);
      const target = await dfns.auth.createServiceAccount({ body: { name: 'pat-target', publicKey: makeKey().publicKeyPem } });
      expect((await failure(asPat.auth.deactivateServiceAccount({ serviceAccountId: target.userInfo.userId, body: {} }))).httpStatus).toBe(403);
      const mine = (await dfns.auth.listPersonalAccessTokens()).items.map((p) => p.tokenId).sort();
      expect((await asPat.auth.listPersonalAccessTokens()).items.map((p) => p.tokenId).sort()).toEqual(mine);
    });

    it('a missing permission gets 403 in Dfns\' words', async () => {
      const reader = clientFor(sim, await loginToken(sim, 'reader@acme.test', 'reader-key', readerKey), 'reader-key', readerKey);
      await reader.auth.listServiceAccounts();
      const err = await failure(reader.auth.createServiceAccount({ body: { name: 'nope', publicKey: makeKey().publicKeyPem } }));
      expect(err.httpStatus).toBe(403);
      expect(err.message).toMatch(/^CustomerEmployee us-[a-z0-9-]+ is not authorized to perform operation \(Auth:ServiceAccounts:Create\)$/);
    });

    it('a PAT never exceeds its owner: an Admin PAT of a read-only user can read but not archive (403)', async () => {
      const asPat = clientFor(sim, sim.seededTokens.get('reader-admin-pat')!, 'reader-pat-key', readerKey);
      const target = await dfns.auth.createServiceAccount({ body: { name: 'pat-cap-target', publicKey: makeKey().publicKeyPem } });
      expect((await asPat.auth.listServiceAccounts()).items.length).toBeGreaterThan(0);
      const err = await failure(asPat.auth.archiveServiceAccount({ serviceAccountId: target.userInfo.userId }));
      expect(err.httpStatus).toBe(403);
      expect(err.message).toMatch(/^Pat to-[a-z0-9-]+ is not authorized to perform operation \(Auth:ServiceAccounts:Delete\)$/);
    });

    it('an SA created without permissionId has no permissions (current docs): listing is refused (403)', async () => {
      const key = makeKey();
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'no-perms', publicKey: key.publicKeyPem } });
      expect(sa.userInfo.permissionAssignments).toEqual([]);
      const asSa = clientFor(sim, sa.accessTokens[0]!.accessToken!, sa.accessTokens[0]!.credId, key);
      const err = await failure(asSa.auth.listServiceAccounts());
      expect(err.message).toBe(`ServiceAccount ${sa.userInfo.userId} is not authorized to perform operation (Auth:ServiceAccounts:Read)`);
    });
  });

  describe('validation and conflicts', () => {
    it('refuses a duplicate SA name and a duplicate PAT name of the same owner (409)', async () => {
      await dfns.auth.createServiceAccount({ body: { name: 'dup', publicKey: makeKey().publicKeyPem } });
      expect((await failure(dfns.auth.createServiceAccount({ body: { name: 'dup', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(409);
      await dfns.auth.createPersonalAccessToken({ body: { name: 'dup', publicKey: makeKey().publicKeyPem } });
      expect((await failure(dfns.auth.createPersonalAccessToken({ body: { name: 'dup', publicKey: makeKey().publicKeyPem } }))).httpStatus).toBe(409);
    });

    it.each([0, 731, 1.5])('refuses daysValid %s (400) for SAs and PATs', async (daysValid) => {
      const sa = await failure(dfns.auth.createServiceAccount({ body: { name: `days-${daysValid}`, publicKey: makeKey().publicKeyPem, daysValid } }));
      expect(sa.httpStatus).toBe(400);
      expect(sa.message).toContain('daysValid');
      const pat = await failure(dfns.auth.createPersonalAccessToken({ body: { name: `days-${daysValid}`, publicKey: makeKey().publicKeyPem, daysValid } }));
      expect(pat.httpStatus).toBe(400);
    });

    it('refuses a public key that is not PEM (400) and unknown body fields (400)', async () => {
      expect((await failure(dfns.auth.createServiceAccount({ body: { name: 'bad-key', publicKey: 'ssh-ed25519 AAAA' } }))).httpStatus).toBe(400);
      const err = await failure(dfns.auth.createServiceAccount({ body: { name: 'extra', publicKey: makeKey().publicKeyPem, secondsValid: 5 } as never }));
      expect(err.httpStatus).toBe(400);
      expect(err.message).toContain('secondsValid');
    });

    it('answers unknown routes with 404 in Dfns\' error shape', async () => {
      const res = await raw('GET', '/auth/nothing-here', '');
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ status: 404, message: 'Route not found' });
    });
  });

  describe('policies', () => {
    it('answers 202 for a policy-held operation: the SDK throws PolicyPendingError and nothing is created', async () => {
      sim.setKnobs({ policyPending: ['CreateServiceAccount'] });
      const err = await failure(dfns.auth.createServiceAccount({ body: { name: 'held', publicKey: makeKey().publicKeyPem } }));
      expect(err).toBeInstanceOf(PolicyPendingError);
      expect(err.httpStatus).toBe(202);
      expect((err.context as { id: string; status: string })).toMatchObject({ id: expect.stringMatching(/^ap-/), status: 'Pending' });
      expect((await dfns.auth.listServiceAccounts()).items.some((i) => i.userInfo.name === 'held')).toBe(false);
    });
  });
});
