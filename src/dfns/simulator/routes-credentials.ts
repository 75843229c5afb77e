import { z } from 'zod';
import { credentialsOfCaller, principalKey } from './caller.js';
import { verifyKeyAttestation } from './attestation-verify.js';
import { badRequest, conflict, notFound } from './dfns-errors.js';
import { newId } from './ids.js';
import { requireCallerKind } from './permissions.js';
import { policyGate } from './policy.js';
import { ok, parseBody, type AuthedRequest, type Route, type SimEnv } from './router.js';
import { credentialView } from './views.js';
import type { CredentialRecord } from './state.js';

/**
 * /auth/credentials (Key kind only). The API reference refuses SA and PAT tokens here while the
 * rotation guide has SAs add keys to themselves (dfns-api.md §5, UNCONFIRMED): refused with 403
 * unless the tokensMayManageCredentials knob. No permission is required (current docs). A new
 * credential belongs to the caller as modelled in state.ts (a PAT's own credentials for a PAT,
 * or its owner's under the patKeysOn 'linked-user' knob).
 */
const CREDENTIAL_KINDS = ['Fido2', 'Key', 'Password', 'Totp', 'RecoveryKey', 'PasswordProtectedKey'] as const;

const initBody = z.strictObject({ kind: z.enum(CREDENTIAL_KINDS) });
const createBody = z.strictObject({
  credentialKind: z.enum(CREDENTIAL_KINDS),
  credentialInfo: z.strictObject({ credId: z.string().min(1), clientData: z.string().min(1), attestationData: z.string().min(1) }),
  credentialName: z.string().min(1),
  challengeIdentifier: z.string().min(1),
  encryptedPrivateKey: z.string().optional(),
});
const uuidBody = z.strictObject({ credentialUuid: z.string().min(1) });

function allowTokens(env: SimEnv, req: AuthedRequest): void {
  if (!env.knobs.tokensMayManageCredentials) requireCallerKind(req.caller, ['user'], 'manage credentials');
}

function findOwnCredential(env: SimEnv, req: AuthedRequest, uuid: string): CredentialRecord {
  const cred = credentialsOfCaller(env.state, req.caller, env.knobs.patKeysOn).find((c) => c.credentialUuid === uuid);
  if (!cred) throw notFound(`Credential ${uuid} not found`);
  return cred;
}

function setActiveRoute(operation: 'ActivateCredential' | 'DeactivateCredential', isActive: boolean): Route {
  return {
    method: 'PUT', path: `/auth/credentials/${isActive ? 'activate' : 'deactivate'}`, operation, auth: true, userAction: true,
    handler: (env, req) => {
      allowTokens(env, req);
      const body = parseBody(uuidBody, req);
      const cred = findOwnCredential(env, req, body.credentialUuid);
      const pending = policyGate(env, req);
      if (pending) return pending;
      cred.isActive = isActive;
      return ok({ message: isActive ? 'Credential activated' : 'Credential deactivated' });
    },
  };
}

export const credentialRoutes: Route[] = [
  {
    method: 'POST', path: '/auth/credentials/init', operation: 'CredentialInit', auth: true, userAction: false,
    handler: (env, req) => {
      allowTokens(env, req);
      const body = parseBody(initBody, req);
      if (body.kind !== 'Key') throw badRequest(`credential kind ${body.kind} is not supported by the simulator (Key only)`);
      const { record, identifier } = env.book.issueChallenge(
        { kind: 'credential', principal: principalKey(req.caller) }, req.now, env.knobs.userActionTtlSeconds,
      );
      const user = req.caller.user;
      return ok({
        kind: 'Key',
        user: { id: user.userId, displayName: user.name, name: user.username },
        challengeIdentifier: identifier,
        challenge: record.challenge,
        attestation: 'direct',
        pubKeyCredParams: [
          { type: 'public-key', alg: -7 },
          { type: 'public-key', alg: -8 },
          { type: 'public-key', alg: -257 },
        ],
        temporaryAuthenticationToken: identifier,
      });
    },
  },
  {
    method: 'POST', path: '/auth/credentials', operation: 'CreateCredential', auth: true, userAction: true,
    handler: (env, req) => {
      allowTokens(env, req);
      const body = parseBody(createBody, req);
      if (body.credentialKind !== 'Key') throw badRequest(`credential kind ${body.credentialKind} is not supported by the simulator (Key only)`);
      const record = env.book.consumeChallenge(body.challengeIdentifier, 'credential', req.now);
      if (record.purpose.kind !== 'credential' || record.purpose.principal !== principalKey(req.caller)) {
        throw badRequest('Challenge token is not valid.', { reason: 'challenge issued to another caller' });
      }
      const attested = verifyKeyAttestation(body.credentialInfo, record.challenge);
      if (env.state.credentialsByCredId.has(body.credentialInfo.credId)) {
        throw conflict('A credential with this credId already exists', { credId: body.credentialInfo.credId });
      }
      const pending = policyGate(env, req);
      if (pending) return pending;
      const cred: CredentialRecord = {
        credentialUuid: newId('cr'),
        credId: body.credentialInfo.credId,
        kind: 'Key',
        name: body.credentialName,
        ownerUserId: req.caller.user.userId,
        publicKeyPem: attested.publicKeyPem,
        key: attested.key,
        isActive: true,
        dateCreated: req.now,
      };
      // patKeysOn 'linked-user': the rotation guide's "on the PAT's linked user".
      if (req.caller.kind === 'pat' && env.knobs.patKeysOn === 'pat') cred.ownerTokenId = req.caller.token.tokenId;
      env.state.addCredential(cred);
      return ok(credentialView(cred));
    },
  },
  {
    method: 'GET', path: '/auth/credentials', operation: 'ListCredentials', auth: true, userAction: false,
    handler: (env, req) => {
      allowTokens(env, req);
      return ok({ items: credentialsOfCaller(env.state, req.caller, env.knobs.patKeysOn).map(credentialView) });
    },
  },
  setActiveRoute('ActivateCredential', true),
  setActiveRoute('DeactivateCredential', false),
];
