import { z } from 'zod';
import { activeCredentialsOfCaller, principalKey } from './caller.js';
import { verifyKeyAssertion } from './assertions.js';
import { MSG, badRequest, unauthorized } from './dfns-errors.js';
import { ok, parseBody, type Route, type SimEnv } from './router.js';
import type { ChallengeRecord } from './user-actions.js';
import type { CredentialRecord } from './state.js';

/** Login (org users only) and user-action signing: /auth/login/init, /auth/login, /auth/action/init, /auth/action. */
function challengeView(record: ChallengeRecord, identifier: string, credentials: readonly CredentialRecord[]) {
  return {
    challenge: record.challenge,
    challengeIdentifier: identifier,
    supportedCredentialKinds: [{ kind: 'Key', factor: 'first', requiresSecondFactor: false }],
    userVerification: 'required',
    attestation: 'none',
    allowCredentials: {
      key: credentials.map((c) => ({ type: 'public-key' as const, id: c.credId })),
      webauthn: [],
    },
    externalAuthenticationUrl: '',
  };
}

const loginInitBody = z.strictObject({
  orgId: z.string().min(1),
  username: z.string().min(1).optional(),
  loginCode: z.string().optional(),
});

const signedChallengeBody = z.strictObject({
  challengeIdentifier: z.string().min(1),
  firstFactor: z.unknown(),
  secondFactor: z.unknown().optional(),
});

const actionInitBody = z.strictObject({
  userActionHttpMethod: z.enum(['POST', 'PUT', 'DELETE', 'GET']),
  userActionHttpPath: z.string().startsWith('/', 'must start with "/"'),
  userActionPayload: z.string(),
  userActionServerKind: z.enum(['Api', 'Staff']).optional(),
});

function ttl(env: SimEnv): number {
  return env.knobs.userActionTtlSeconds;
}

export const authRoutes: Route[] = [
  {
    method: 'POST', path: '/auth/login/init', operation: 'LoginInit', auth: false,
    handler: (env, req) => {
      const body = parseBody(loginInitBody, req);
      if (!body.username) throw badRequest('username is required (login codes are not simulated)');
      const userId = body.orgId === env.state.orgId ? env.state.usersByUsername.get(body.username) : undefined;
      const user = userId ? env.state.users.get(userId) : undefined;
      // Only org users log in: SAs are not in usersByUsername, so they get "User not found".
      if (!user || user.archived) throw unauthorized(MSG.userNotFound);
      if (!user.isActive) throw badRequest(MSG.userDeactivated);
      const credentials = env.state.credentialsOf(user.userId).filter((c) => c.isActive);
      if (credentials.length === 0) throw unauthorized(MSG.noCredential);
      const { record, identifier } = env.book.issueChallenge({ kind: 'login', userId: user.userId }, req.now, ttl(env));
      return ok(challengeView(record, identifier, credentials));
    },
  },
  {
    method: 'POST', path: '/auth/login', operation: 'Login', auth: false,
    handler: (env, req) => {
      const body = parseBody(signedChallengeBody, req);
      const record = env.book.consumeChallenge(body.challengeIdentifier, 'login', req.now);
      if (record.purpose.kind !== 'login') throw badRequest(MSG.challengeInvalid);
      const user = env.state.users.get(record.purpose.userId);
      if (!user || user.archived) throw unauthorized(MSG.userNotFound);
      if (!user.isActive) throw badRequest(MSG.userDeactivated);
      const credentials = env.state.credentialsOf(user.userId).filter((c) => c.isActive);
      verifyKeyAssertion(body.firstFactor, record.challenge, credentials);
      const token = env.jwt.accessToken({
        orgId: env.state.orgId, userId: user.userId, username: user.username, tokenKind: 'Token',
        iatMs: req.now, expMs: req.now + env.knobs.loginTokenSeconds * 1000,
      });
      return ok({ token });
    },
  },
  {
    method: 'POST', path: '/auth/action/init', operation: 'ActionInit', auth: true, userAction: false,
    handler: (env, req) => {
      const body = parseBody(actionInitBody, req);
      const credentials = activeCredentialsOfCaller(env.state, req.caller, env.knobs.patKeysOn);
      if (credentials.length === 0) throw unauthorized(MSG.noCredential);
      const { record, identifier } = env.book.issueChallenge(
        {
          kind: 'action',
          principal: principalKey(req.caller),
          action: { method: body.userActionHttpMethod, path: body.userActionHttpPath, payload: body.userActionPayload },
        },
        req.now,
        ttl(env),
      );
      return ok(challengeView(record, identifier, credentials));
    },
  },
  {
    method: 'POST', path: '/auth/action', operation: 'ActionSign', auth: true, userAction: false,
    handler: (env, req) => {
      const body = parseBody(signedChallengeBody, req);
      const record = env.book.consumeChallenge(body.challengeIdentifier, 'action', req.now);
      if (record.purpose.kind !== 'action') throw badRequest(MSG.challengeInvalid);
      const principal = principalKey(req.caller);
      if (record.purpose.principal !== principal) throw badRequest(MSG.challengeInvalid, { reason: 'challenge issued to another caller' });
      const credential = verifyKeyAssertion(body.firstFactor, record.challenge, activeCredentialsOfCaller(env.state, req.caller, env.knobs.patKeysOn));
      const userAction = env.book.issueUserAction(principal, credential.credentialUuid, record.purpose.action, req.now, ttl(env));
      return ok({ userAction });
    },
  },
];
