import { readFile } from 'node:fs/promises';
import type { Clock } from '../../clock.js';
import type { VaultAuthConfig } from '../../config/types.js';
import type { Logger } from '../../logger.js';
import { VaultAuthError, VaultHttpError } from './errors.js';
import type { VaultHttp } from './http.js';

/**
 * The Vault token the adapter uses, kept alive: a configured token, or one from an AppRole or
 * Kubernetes login. A token is renewed (`auth/token/renew-self`) once two thirds of its lease
 * have passed; when it cannot be renewed far enough (its max TTL is near) and the method can log
 * in again, the session logs in again before it expires. Logins are single-flight.
 */

interface Lease {
  token: string;
  /** Epoch ms; null: no expiry known (root tokens, or lookup-self not allowed). */
  expiresAt: number | null;
  /** The lease length when obtained, ms. */
  leaseMs: number;
  /** The lease length the login (or the token's lookup) gave: a renewal much shorter than it is capped by the max TTL. */
  fullLeaseMs: number;
  renewable: boolean;
}

export class VaultSession {
  readonly #auth: VaultAuthConfig;
  readonly #http: VaultHttp;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #lease: Lease | null = null;
  #pending: Promise<Lease> | null = null;

  constructor(auth: VaultAuthConfig, http: VaultHttp, clock: Clock, logger: Logger) {
    this.#auth = auth;
    this.#http = http;
    this.#clock = clock;
    this.#logger = logger;
  }

  get method(): VaultAuthConfig['method'] {
    return this.#auth.method;
  }

  /** Whether a 403 may mean an expired or revoked token that a fresh login would fix. */
  get canLogIn(): boolean {
    return this.#auth.method !== 'token';
  }

  /** A token good for the next request, renewed or replaced first when its lease runs low. */
  async token(): Promise<string> {
    const lease = this.#lease;
    if (lease && !this.#due(lease)) return lease.token;
    this.#pending ??= this.#refresh(lease).finally(() => {
      this.#pending = null;
    });
    this.#lease = await this.#pending;
    return this.#lease.token;
  }

  /** Revokes a token this session logged in for (never a configured one); best effort, at shutdown. */
  async close(): Promise<void> {
    const lease = this.#lease;
    this.#lease = null;
    if (!lease || !this.canLogIn) return;
    await this.#http.call('POST', 'auth/token/revoke-self', { token: lease.token, body: {} }).catch((err: Error) => {
      this.#logger.debug({ err: err.message }, 'could not revoke the Vault login token; it expires with its TTL');
    });
  }

  /** Forgets the token (after a 403 that a login may fix): the next `token()` logs in. */
  invalidate(): void {
    if (this.canLogIn) this.#lease = null;
  }

  #due(lease: Lease): boolean {
    if (lease.expiresAt === null) return false;
    return this.#clock.now() >= lease.expiresAt - lease.leaseMs / 3;
  }

  async #refresh(old: Lease | null): Promise<Lease> {
    if (old?.renewable) {
      const renewed = await this.#renew(old).catch((err: Error) => {
        this.#logger.warn({ err: err.message }, 'Vault token renewal failed');
        return null;
      });
      // A renewal capped by the max TTL is still worth having when there is no other way.
      const capped = renewed !== null && renewed.leaseMs < (old.fullLeaseMs * 2) / 3;
      if (renewed && (!this.canLogIn || !capped)) return renewed;
    }
    if (old && !this.canLogIn) {
      if (old.expiresAt !== null && old.expiresAt <= this.#clock.now()) this.#logger.error({}, 'the configured Vault token has expired and cannot be renewed; give the daemon a new one (VAULT_TOKEN)');
      return { ...old, expiresAt: null };
    }
    return this.#login();
  }

  async #renew(old: Lease): Promise<Lease> {
    const answer = await this.#http.call('POST', 'auth/token/renew-self', { token: old.token, body: {} });
    if (answer.status !== 200) throw new VaultHttpError(answer.status, 'POST', 'auth/token/renew-self', answer.errors);
    const lease = { ...this.#fromAuth(answer.body?.auth, old.token), fullLeaseMs: old.fullLeaseMs };
    this.#logger.debug({ ttlSeconds: Math.round(lease.leaseMs / 1000) }, 'renewed the Vault token');
    return lease;
  }

  async #login(): Promise<Lease> {
    const auth = this.#auth;
    if (auth.method === 'token') return this.#lookup(auth.token.reveal());
    let body: Record<string, string>;
    let path: string;
    if (auth.method === 'approle') {
      path = `auth/${auth.mountPath}/login`;
      body = { role_id: auth.roleId, secret_id: auth.secretId.reveal() };
    } else {
      path = `auth/${auth.mountPath}/login`;
      // Read each time: Kubernetes rotates projected service-account tokens.
      const jwt = (await readFile(auth.jwtFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new VaultAuthError('kubernetes', `cannot read the service-account token file ${auth.jwtFile} (${err.code ?? err.message}); set store.vault.auth.jwtFile`);
      })).trim();
      body = { role: auth.role, jwt };
    }
    const answer = await this.#http.call('POST', path, { body });
    if (answer.status !== 200) {
      const who = auth.method === 'approle' ? `role id ${auth.roleId}` : `role ${auth.role}`;
      throw new VaultAuthError(auth.method, `${answer.status} at ${path} for ${who}${answer.errors.length ? `: ${answer.errors.join('; ').slice(0, 200)}` : ''} (is the method enabled at that mount, and are the role and secret right?)`);
    }
    const lease = this.#fromAuth(answer.body?.auth, null);
    this.#logger.info({ method: auth.method, ttlSeconds: Math.round(lease.leaseMs / 1000) }, 'logged in to Vault');
    return lease;
  }

  /** A configured token: learn its TTL so it can be renewed; a token without lookup-self rights is used as it is. */
  async #lookup(token: string): Promise<Lease> {
    const answer = await this.#http.call('GET', 'auth/token/lookup-self', { token });
    const data = answer.body?.data as { ttl?: unknown; renewable?: unknown } | undefined;
    if (answer.status !== 200 || !data || typeof data.ttl !== 'number') return { token, expiresAt: null, leaseMs: 0, fullLeaseMs: 0, renewable: false };
    const leaseMs = data.ttl * 1000;
    return { token, expiresAt: data.ttl > 0 ? this.#clock.now() + leaseMs : null, leaseMs, fullLeaseMs: leaseMs, renewable: data.renewable === true && data.ttl > 0 };
  }

  #fromAuth(auth: unknown, fallbackToken: string | null): Lease {
    const a = (auth ?? {}) as { client_token?: unknown; lease_duration?: unknown; renewable?: unknown };
    const token = typeof a.client_token === 'string' && a.client_token !== '' ? a.client_token : fallbackToken;
    if (!token) throw new VaultAuthError(this.#auth.method, 'the answer carried no client_token');
    const seconds = typeof a.lease_duration === 'number' ? a.lease_duration : 0;
    return { token, expiresAt: seconds > 0 ? this.#clock.now() + seconds * 1000 : null, leaseMs: seconds * 1000, fullLeaseMs: seconds * 1000, renewable: a.renewable === true };
  }
}
