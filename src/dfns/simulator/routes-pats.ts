import { z } from 'zod';
import { conflict, notFound } from './dfns-errors.js';
import { PERM, requireCallerKind, requirePermission } from './permissions.js';
import { policyGate } from './policy.js';
import { addPat, copyAssignments, newAssignment } from './records.js';
import { ok, parseBody, type AuthedRequest, type Route, type SimEnv } from './router.js';
import { spoilIfListed, tokenView } from './views.js';
import { daysValidField, expiryFrom, keyMaterialFrom, nameField, permissionById, secondsValidField } from './validation.js';
import type { TokenRecord } from './state.js';

/**
 * /auth/pats. PATs are always the caller's own (dfns-api.md §4): a login token sees its user's
 * PATs, a PAT token sees its owner's PATs, an SA has none (empty list, 404 on any id). Create is
 * org users only; without permissionId the PAT gets the caller's permissions (older docs), and
 * at use it never exceeds its owner's current permissions (permissions.ts).
 */
const createBody = z.strictObject({
  name: nameField,
  publicKey: z.string(),
  permissionId: z.string().min(1).optional(),
  externalId: z.string().min(1).optional(),
  daysValid: daysValidField.optional(),
  secondsValid: secondsValidField.optional(),
});
const updateBody = z.strictObject({ name: nameField.optional(), externalId: z.string().min(1).optional() });
const emptyBody = z.strictObject({});

function ownerIdOf(req: AuthedRequest): string | null {
  return req.caller.kind === 'serviceAccount' ? null : req.caller.user.userId;
}

function findOwnPat(env: SimEnv, req: AuthedRequest): TokenRecord {
  const id = req.params.tokenId ?? '';
  const token = env.state.tokens.get(id);
  const owner = ownerIdOf(req);
  if (!token || token.kind !== 'Pat' || token.archived || owner === null || token.linkedUserId !== owner) {
    throw notFound(`Personal access token ${id} not found`);
  }
  return token;
}

function nameTaken(env: SimEnv, ownerId: string, name: string, except?: TokenRecord): boolean {
  return env.state.livePatsOf(ownerId).some((t) => t.name === name && t !== except);
}

/** A PAT state change: own PAT, no permission needed (docs: "none"), policy gate, then `apply`. */
function patChange(operation: 'ActivatePat' | 'DeactivatePat' | 'ArchivePat', method: 'PUT' | 'DELETE', suffix: string,
  apply: (env: SimEnv, token: TokenRecord) => void): Route {
  return {
    method, path: `/auth/pats/:tokenId${suffix}`, operation, auth: true, userAction: true,
    handler: (env, req) => {
      parseBody(emptyBody, req);
      const token = findOwnPat(env, req);
      const pending = policyGate(env, req);
      if (pending) return pending;
      apply(env, token);
      return ok(tokenView(env.state, token, env.view()));
    },
  };
}

export const patRoutes: Route[] = [
  {
    method: 'GET', path: '/auth/pats', operation: 'ListPats', auth: true, userAction: false,
    handler: (env, req) => {
      const owner = ownerIdOf(req);
      const opts = env.view();
      const items = owner === null ? [] : env.state.livePatsOf(owner).map((t) =>
        spoilIfListed(env.knobs.unreadableItems, t.name, tokenView(env.state, t, opts), (v) => Object.assign(v, { isActive: 'yes' })));
      return ok({ items });
    },
  },
  {
    method: 'GET', path: '/auth/pats/:tokenId', operation: 'GetPat', auth: true, userAction: false,
    handler: (env, req) => ok(tokenView(env.state, findOwnPat(env, req), env.view())),
  },
  {
    method: 'POST', path: '/auth/pats', operation: 'CreatePat', auth: true, userAction: true,
    handler: (env, req) => {
      requireCallerKind(req.caller, ['user'], 'create personal access tokens');
      const body = parseBody(createBody, req);
      requirePermission(env.state, req.caller, PERM.patCreate, ...(body.permissionId ? [PERM.assign] : []));
      const material = keyMaterialFrom(body.publicKey);
      const owner = req.caller.user;
      const assignments = body.permissionId
        ? [newAssignment(permissionById(env.state, body.permissionId))]
        : copyAssignments(env.state, owner.assignments);
      if (nameTaken(env, owner.userId, body.name)) {
        throw conflict(`You already have a personal access token named "${body.name}"`, { name: body.name });
      }
      const pending = policyGate(env, req);
      if (pending) return pending;
      const token = addPat(
        env.state,
        owner,
        {
          name: body.name, assignments, isActive: true, dateCreated: req.now,
          exp: expiryFrom(req.now, body, env.knobs.defaultDaysValid), externalId: body.externalId,
        },
        material,
      );
      const accessToken = env.jwt.accessToken({
        orgId: env.state.orgId, userId: owner.userId, username: owner.username, tokenKind: 'Pat',
        tokenId: token.tokenId, iatMs: token.dateCreated, expMs: token.exp,
      });
      return ok(tokenView(env.state, token, env.view(), accessToken));
    },
  },
  {
    method: 'PUT', path: '/auth/pats/:tokenId', operation: 'UpdatePat', auth: true, userAction: true,
    handler: (env, req) => {
      const body = parseBody(updateBody, req);
      const token = findOwnPat(env, req);
      if (body.name !== undefined && nameTaken(env, token.linkedUserId, body.name, token)) {
        throw conflict(`You already have a personal access token named "${body.name}"`, { name: body.name });
      }
      const pending = policyGate(env, req);
      if (pending) return pending;
      if (body.name !== undefined) token.name = body.name;
      if (body.externalId !== undefined) token.externalId = body.externalId;
      return ok(tokenView(env.state, token, env.view()));
    },
  },
  patChange('ActivatePat', 'PUT', '/activate', (_env, token) => { token.isActive = true; }),
  patChange('DeactivatePat', 'PUT', '/deactivate', (_env, token) => { token.isActive = false; }),
  patChange('ArchivePat', 'DELETE', '', (env, token) => env.state.archivePat(token)),
];
