import { randomBytes } from 'node:crypto';

/**
 * Tokens, policies and the two login methods (AppRole, Kubernetes) of the local Vault server,
 * after Vault's API reference (auth/approle, auth/kubernetes, auth/token). Policies are a subset
 * of Vault's HCL semantics: a path is exact, ends in `*` (prefix) or has `+` segments; the most
 * specific match decides, and `deny` wins within it.
 */

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

export interface PolicyRule {
  path: string;
  capabilities: Capability[];
}

export interface VaultToken {
  id: string;
  accessor: string;
  /** `root` may do anything. */
  policies: 'root' | PolicyRule[];
  policyNames: string[];
  /** Epoch ms; null never expires (the root token). */
  expiresAt: number | null;
  ttlSeconds: number;
  /** A renewal may not push expiry past creation + this. */
  maxTtlSeconds: number;
  createdAt: number;
  renewable: boolean;
}

export interface RoleSettings {
  policies: PolicyRule[];
  /** Token TTL in seconds (default 3600). */
  ttlSeconds?: number;
  /** Default 4× the TTL. */
  maxTtlSeconds?: number;
  policyName?: string;
}

export interface AppRoleSettings extends RoleSettings {
  roleName: string;
  roleId: string;
  secretId: string;
}

export interface KubernetesRoleSettings extends RoleSettings {
  role: string;
  /** The service-account JWT the role accepts (the server does not check it against a cluster). */
  jwt: string;
}

export class TokenStore {
  readonly #tokens = new Map<string, VaultToken>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  addRoot(id: string): VaultToken {
    const t: VaultToken = { id, accessor: accessor(), policies: 'root', policyNames: ['root'], expiresAt: null, ttlSeconds: 0, maxTtlSeconds: 0, createdAt: this.#now(), renewable: false };
    this.#tokens.set(id, t);
    return t;
  }

  issue(role: RoleSettings, id = `hvs.${randomBytes(18).toString('base64url')}`): VaultToken {
    const ttl = role.ttlSeconds ?? 3600;
    const t: VaultToken = {
      id, accessor: accessor(), policies: role.policies, policyNames: [role.policyName ?? 'default'],
      expiresAt: this.#now() + ttl * 1000, ttlSeconds: ttl, maxTtlSeconds: role.maxTtlSeconds ?? ttl * 4, createdAt: this.#now(), renewable: true,
    };
    this.#tokens.set(id, t);
    return t;
  }

  /** The live token for an `X-Vault-Token` value, or null (unknown or expired). */
  lookup(id: string | undefined): VaultToken | null {
    if (!id) return null;
    const t = this.#tokens.get(id);
    if (!t) return null;
    if (t.expiresAt !== null && t.expiresAt <= this.#now()) {
      this.#tokens.delete(id);
      return null;
    }
    return t;
  }

  renew(t: VaultToken, incrementSeconds?: number): void {
    if (t.expiresAt === null) return;
    const maxAt = t.createdAt + t.maxTtlSeconds * 1000;
    t.expiresAt = Math.min(maxAt, this.#now() + (incrementSeconds ?? t.ttlSeconds) * 1000);
  }

  revoke(id: string): void {
    this.#tokens.delete(id);
  }

  ttlLeft(t: VaultToken): number {
    return t.expiresAt === null ? 0 : Math.max(0, Math.floor((t.expiresAt - this.#now()) / 1000));
  }
}

function accessor(): string {
  return randomBytes(12).toString('base64url');
}

/** Whether `token` may use `capability` on the API path `path` (no `/v1/`, e.g. `secret/data/a`). */
export function allowed(token: VaultToken, path: string, capability: Capability): boolean {
  if (token.policies === 'root') return true;
  let best: { rule: PolicyRule; score: number } | null = null;
  for (const rule of token.policies) {
    const score = matchScore(rule.path, path);
    if (score === null) continue;
    if (!best || score > best.score) best = { rule, score };
    else if (score === best.score) best = { rule: { path: rule.path, capabilities: [...best.rule.capabilities, ...rule.capabilities] }, score };
  }
  if (!best || best.rule.capabilities.includes('deny')) return false;
  return best.rule.capabilities.includes(capability);
}

/** Null when the pattern does not match; otherwise higher is more specific (exact beats globs, longer beats shorter). */
function matchScore(pattern: string, path: string): number | null {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  const pSegs = body.split('/');
  const segs = path.split('/');
  if (!glob && pSegs.length !== segs.length) return null;
  let pluses = 0;
  for (let i = 0; i < pSegs.length; i++) {
    const p = pSegs[i]!;
    const s = segs[i];
    if (s === undefined) return null;
    const last = i === pSegs.length - 1;
    if (p === '+') {
      pluses++;
      continue;
    }
    if (last && glob) {
      if (!s.startsWith(p)) return null;
    } else if (p !== s) return null;
  }
  return (glob ? 0 : 1_000_000) + body.length * 10 - pluses;
}

/** Vault's `auth` block of a login or renewal answer. */
export function authBlock(tokens: TokenStore, t: VaultToken, metadata: Record<string, string> = {}) {
  return {
    client_token: t.id, accessor: t.accessor, policies: t.policyNames, token_policies: t.policyNames, metadata,
    lease_duration: tokens.ttlLeft(t), renewable: t.renewable, entity_id: '', token_type: 'service', orphan: true,
  };
}
