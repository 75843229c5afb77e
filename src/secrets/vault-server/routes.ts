import { allowed, authBlock, type AppRoleSettings, type Capability, type KubernetesRoleSettings, type TokenStore } from './auth.js';
import { CAS_MISMATCH, type KvEngine } from './kv.js';

/**
 * The local Vault's routes, after Vault's API reference: `sys/health`, AppRole and Kubernetes
 * login, `auth/token/lookup-self|renew-self|revoke-self`, and per KV v2 mount `data/`,
 * `metadata/` (LIST as `GET ?list=true`), `delete/`, `destroy/`. Capabilities are checked as
 * Vault does: read for GET, create or update for writes (by whether the path exists), list, delete.
 */

/** What the routes share with the server's pipeline. */
export interface VaultState {
  tokens: TokenStore;
  kv(mount?: string, namespace?: string): KvEngine;
  mounts: ReadonlySet<string>;
  appRoles: readonly AppRoleSettings[];
  kubernetesRoles: readonly KubernetesRoleSettings[];
  appRoleMount: string;
  kubernetesMount: string;
  /** Forced CAS mismatches still to answer (a knob). */
  casConflicts: number;
}

/** An answer other than success, thrown by a route: Vault's `{errors: […]}`. */
export class HttpAnswer extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`vault answer ${status}`);
  }
}

export const fail = (status: number, ...errors: string[]) => new HttpAnswer(status, { errors });

function login(v: VaultState, path: string, body: Record<string, unknown>) {
  if (path === `auth/${v.appRoleMount}/login`) {
    const role = v.appRoles.find((r) => r.roleId === body.role_id);
    if (!role || typeof body.secret_id !== 'string' || body.secret_id !== role.secretId) throw fail(400, 'invalid role or secret ID');
    return { auth: authBlock(v.tokens, v.tokens.issue(role), { role_name: role.roleName }) };
  }
  if (path === `auth/${v.kubernetesMount}/login`) {
    const role = v.kubernetesRoles.find((r) => r.role === body.role);
    if (!role) throw fail(400, `invalid role name "${String(body.role)}"`);
    if (typeof body.jwt !== 'string' || body.jwt !== role.jwt) throw fail(403, 'permission denied');
    return { auth: authBlock(v.tokens, v.tokens.issue(role), { role: role.role, service_account_name: 'dfns-rotator' }) };
  }
  return null;
}

/** One request after the pipeline's faults: `path` without `/v1/` and trailing slashes, `policyPath` as sent. */
export function route(v: VaultState, method: string, path: string, policyPath: string, query: URLSearchParams, body: Record<string, unknown>, tokenHeader: string | undefined, namespace: string): { status: number; body: unknown } {
  if (path === 'sys/health') return { status: 200, body: { initialized: true, sealed: false, standby: false, version: '1.17.0-dfns-rotator-local' } };
  if (method === 'POST' || method === 'PUT') {
    const answer = login(v, path, body);
    if (answer) return { status: 200, body: answer };
  }
  const tokens = v.tokens;
  const token = tokens.lookup(tokenHeader);
  if (!token) throw fail(403, 'permission denied');
  if (path === 'auth/token/lookup-self' && method === 'GET') {
    return { status: 200, body: { data: { id: token.id, accessor: token.accessor, policies: token.policyNames, ttl: tokens.ttlLeft(token), renewable: token.renewable, expire_time: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString() } } };
  }
  if (path === 'auth/token/renew-self' && (method === 'POST' || method === 'PUT')) {
    if (!token.renewable) throw fail(400, 'lease is not renewable');
    tokens.renew(token, typeof body.increment === 'number' ? body.increment : undefined);
    return { status: 200, body: { auth: authBlock(tokens, token) } };
  }
  if (path === 'auth/token/revoke-self' && (method === 'POST' || method === 'PUT')) {
    tokens.revoke(token.id);
    return { status: 204, body: null };
  }
  const [mount, area, ...rest] = path.split('/');
  const sub = rest.join('/');
  if (!mount || !v.mounts.has(mount) || !area) throw fail(404, `no handler for route "${path}". route entry not found.`);
  const engine = v.kv(mount, namespace);
  // Policies see the path as sent: a LIST of `a/b/` is checked against `a/b/`, which `a/b/*` covers.
  const need = (capability: Capability) => {
    if (!allowed(token, policyPath, capability)) throw fail(403, 'permission denied');
  };
  const isList = method === 'LIST' || (method === 'GET' && query.get('list') === 'true');
  if (area === 'data') {
    if (method === 'GET') {
      need('read');
      const v = query.get('version');
      const version = v === null ? undefined : Number(v);
      if (version !== undefined && !Number.isInteger(version)) throw fail(400, 'invalid version');
      const read = engine.read(sub, version);
      return { status: 200, body: { data: read } };
    }
    if (method === 'POST' || method === 'PUT') {
      let exists = true;
      try {
        engine.readMetadata(sub);
      } catch {
        exists = false;
      }
      need(exists ? 'update' : 'create');
      if (v.casConflicts > 0) {
        v.casConflicts--;
        throw fail(400, CAS_MISMATCH);
      }
      const written = engine.write(sub, body.data, body.options as { cas?: unknown } | undefined);
      return { status: 200, body: { data: written } };
    }
    if (method === 'DELETE') {
      need('delete');
      engine.deleteVersions(sub);
      return { status: 204, body: null };
    }
  }
  if (area === 'metadata') {
    if (isList) {
      need('list');
      const folder = sub === '' || sub.endsWith('/') ? sub : `${sub}/`;
      const keys = engine.list(folder);
      if (!keys) throw fail(404);
      return { status: 200, body: { data: { keys } } };
    }
    if (method === 'GET') {
      need('read');
      return { status: 200, body: { data: engine.readMetadata(sub) } };
    }
    if (method === 'POST' || method === 'PUT') {
      need('update');
      engine.writeMetadata(sub, body);
      return { status: 204, body: null };
    }
    if (method === 'DELETE') {
      need('delete');
      engine.deleteMetadata(sub);
      return { status: 204, body: null };
    }
  }
  if ((area === 'delete' || area === 'destroy') && (method === 'POST' || method === 'PUT')) {
    need('update');
    const versions = Array.isArray(body.versions) ? body.versions.filter((n): n is number => Number.isInteger(n)) : [];
    if (versions.length === 0) throw fail(400, 'no version number provided');
    if (area === 'delete') engine.deleteVersions(sub, versions);
    else engine.destroyVersions(sub, versions);
    return { status: 204, body: null };
  }
  throw fail(405, `unsupported operation ${method} on ${path}`);
}
