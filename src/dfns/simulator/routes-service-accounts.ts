import { z } from 'zod';
import { conflict, notFound } from './dfns-errors.js';
import { PERM, requireCallerKind, requirePermission } from './permissions.js';
import { policyGate } from './policy.js';
import { addServiceAccount, copyAssignments, newAssignment } from './records.js';
import { ok, parseBody, type AuthedRequest, type Route, type SimEnv } from './router.js';
import { serviceAccountView, spoilIfListed } from './views.js';
import { daysValidField, expiryFrom, keyMaterialFrom, nameField, permissionById } from './validation.js';
import type { UserRecord } from './state.js';

/**
 * /auth/service-accounts. Who may call (dfns-api.md §3): list/get/update/activate/archive need
 * the matching `Auth:ServiceAccounts:*` permission (any caller kind); create is org users only
 * (an SA or PAT is refused whatever its permissions); deactivate is org users and SAs, not PATs.
 */
const createBody = z.strictObject({
  name: nameField,
  publicKey: z.string(),
  daysValid: daysValidField.optional(),
  permissionId: z.string().min(1).optional(),
  externalId: z.string().min(1).optional(),
});
const updateBody = z.strictObject({ name: nameField.optional(), externalId: z.string().min(1).optional() });
const forceBody = z.strictObject({ force: z.boolean().optional() });

function findServiceAccount(env: SimEnv, req: AuthedRequest): UserRecord {
  const id = req.params.serviceAccountId ?? '';
  const user = env.state.liveServiceAccount(id);
  if (!user) throw notFound(`Service account ${id} not found`);
  return user;
}

function setActive(env: SimEnv, user: UserRecord, isActive: boolean): void {
  user.isActive = isActive;
  const token = user.tokenId ? env.state.tokens.get(user.tokenId) : undefined;
  if (token) token.isActive = isActive;
}

/** `force` (deactivate body / archive query) "bypasses the policy approver check" (Dfns docs). */
function forced(req: AuthedRequest, bodyForce: boolean | undefined): boolean {
  return bodyForce === true || new URLSearchParams(req.search).get('force') === 'true';
}

export const serviceAccountRoutes: Route[] = [
  {
    method: 'GET', path: '/auth/service-accounts', operation: 'ListServiceAccounts', auth: true, userAction: false,
    handler: (env, req) => {
      requirePermission(env.state, req.caller, PERM.saRead);
      const opts = env.view();
      const items = [];
      for (const id of env.state.serviceAccountIds) {
        const user = env.state.users.get(id);
        if (user) {
          items.push(spoilIfListed(env.knobs.unreadableItems, user.name, serviceAccountView(env.state, user, opts), (v) => Object.assign(v.userInfo, { isActive: 'yes' })));
        }
      }
      return ok({ items });
    },
  },
  {
    method: 'GET', path: '/auth/service-accounts/:serviceAccountId', operation: 'GetServiceAccount', auth: true, userAction: false,
    handler: (env, req) => {
      requirePermission(env.state, req.caller, PERM.saRead);
      return ok(serviceAccountView(env.state, findServiceAccount(env, req), env.view()));
    },
  },
  {
    method: 'POST', path: '/auth/service-accounts', operation: 'CreateServiceAccount', auth: true, userAction: true,
    handler: (env, req) => {
      requireCallerKind(req.caller, ['user'], 'create service accounts');
      const body = parseBody(createBody, req);
      requirePermission(env.state, req.caller, PERM.saCreate, ...(body.permissionId ? [PERM.assign] : []));
      const material = keyMaterialFrom(body.publicKey);
      const assignments = body.permissionId
        ? [newAssignment(permissionById(env.state, body.permissionId))]
        : env.knobs.serviceAccountInheritsPermissions ? copyAssignments(env.state, req.caller.user.assignments) : [];
      if (env.state.serviceAccountNames.has(body.name)) {
        throw conflict(`A service account named "${body.name}" already exists in this org`, { name: body.name });
      }
      const pending = policyGate(env, req);
      if (pending) return pending;
      const { user, token } = addServiceAccount(
        env.state,
        {
          name: body.name, assignments, isActive: true, dateCreated: req.now,
          exp: expiryFrom(req.now, body, env.knobs.defaultDaysValid), externalId: body.externalId,
        },
        material,
      );
      const accessToken = env.jwt.accessToken({
        orgId: env.state.orgId, userId: user.userId, username: user.username, tokenKind: 'ServiceAccount',
        tokenId: token.tokenId, iatMs: token.dateCreated, expMs: token.exp,
      });
      return ok(serviceAccountView(env.state, user, env.view(), accessToken));
    },
  },
  {
    method: 'PUT', path: '/auth/service-accounts/:serviceAccountId', operation: 'UpdateServiceAccount', auth: true, userAction: true,
    handler: (env, req) => {
      const body = parseBody(updateBody, req);
      requirePermission(env.state, req.caller, PERM.saUpdate);
      const user = findServiceAccount(env, req);
      if (body.name !== undefined && body.name !== user.name && env.state.serviceAccountNames.has(body.name)) {
        throw conflict(`A service account named "${body.name}" already exists in this org`, { name: body.name });
      }
      const pending = policyGate(env, req);
      if (pending) return pending;
      if (body.name !== undefined && body.name !== user.name) env.state.renameServiceAccount(user, body.name);
      if (body.externalId !== undefined) {
        user.externalId = body.externalId;
        const token = user.tokenId ? env.state.tokens.get(user.tokenId) : undefined;
        if (token) token.externalId = body.externalId;
      }
      return ok(serviceAccountView(env.state, user, env.view()));
    },
  },
  {
    method: 'PUT', path: '/auth/service-accounts/:serviceAccountId/activate', operation: 'ActivateServiceAccount', auth: true, userAction: true,
    handler: (env, req) => {
      parseBody(z.strictObject({}), req);
      requirePermission(env.state, req.caller, PERM.saActivate);
      const user = findServiceAccount(env, req);
      const pending = policyGate(env, req);
      if (pending) return pending;
      setActive(env, user, true);
      return ok(serviceAccountView(env.state, user, env.view()));
    },
  },
  {
    method: 'PUT', path: '/auth/service-accounts/:serviceAccountId/deactivate', operation: 'DeactivateServiceAccount', auth: true, userAction: true,
    handler: (env, req) => {
      requireCallerKind(req.caller, ['user', 'serviceAccount'], 'deactivate service accounts');
      const body = parseBody(forceBody, req);
      requirePermission(env.state, req.caller, PERM.saDeactivate);
      const user = findServiceAccount(env, req);
      if (!forced(req, body.force)) {
        const pending = policyGate(env, req);
        if (pending) return pending;
      }
      setActive(env, user, false);
      return ok(serviceAccountView(env.state, user, env.view()));
    },
  },
  {
    method: 'DELETE', path: '/auth/service-accounts/:serviceAccountId', operation: 'ArchiveServiceAccount', auth: true, userAction: true,
    handler: (env, req) => {
      parseBody(z.strictObject({}), req);
      requirePermission(env.state, req.caller, PERM.saDelete);
      const user = findServiceAccount(env, req);
      if (!forced(req, undefined)) {
        const pending = policyGate(env, req);
        if (pending) return pending;
      }
      env.state.archiveServiceAccount(user);
      return ok(serviceAccountView(env.state, user, env.view()));
    },
  },
];
