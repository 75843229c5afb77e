import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../clock.js';
import { TokenStore, type AppRoleSettings, type KubernetesRoleSettings, type PolicyRule, type VaultToken } from './auth.js';
import { KvEngine, KvError } from './kv.js';
import { HttpAnswer, fail, route, type VaultState } from './routes.js';
import { readRequestBody } from '../../http/read-request-body.js';

/**
 * A local HashiCorp Vault for tests and the demo: the HTTP API dfns-rotator's Vault adapter uses,
 * with Vault's semantics (KV v2 engines, token auth with per-token policies, AppRole and
 * Kubernetes login, renew-self, lookup-self, namespaces via `X-Vault-Namespace`, errors as
 * `{errors: […]}`), plus knobs: latency, injected 5xx/429 and forced CAS conflicts.
 *
 * Pipeline: latency → injected fault → route → token (403 `permission denied`) → policy (403) →
 * engine. Not a Vault: no seal, no leases for secrets, no persistence.
 */

export interface VaultKnobs {
  /** Added to every answer. */
  latencyMs: number;
  /** Probability in [0, 1] that a request answers an injected 500/503. */
  faultRate: number;
}

export interface VaultServerOptions {
  host?: string;
  port?: number;
  /** The root token (all paths). */
  rootToken: string;
  /** KV v2 mounts, default `['secret']`. */
  mounts?: string[];
  appRoles?: AppRoleSettings[];
  kubernetesRoles?: KubernetesRoleSettings[];
  /** Auth mount paths, default `approle` and `kubernetes`. */
  appRoleMount?: string;
  kubernetesMount?: string;
  knobs?: Partial<VaultKnobs>;
  /** Serve https with this key and certificate (PEM), as a Vault behind a private CA. */
  tls?: { key: string; cert: string };
  clock?: Clock;
  random?: () => number;
}

export interface VaultRequestLog {
  method: string;
  path: string;
  namespace: string | null;
  status: number;
}

export interface RunningVault {
  url: string;
  port: number;
  rootToken: string;
  knobs: VaultKnobs;
  tokens: TokenStore;
  /** Every answered request, in order (paths, never bodies). */
  requests: VaultRequestLog[];
  /** The next `count` requests (optionally only those whose `METHOD path` contains `match`, e.g. `POST secret/data/x`) answer `status`. */
  failNext(count: number, status?: number, pathIncludes?: string): void;
  /** The next `count` matching requests are carried out, then answered `status`: an answer lost after Vault applied the request. */
  failAfterNext(count: number, status?: number, pathIncludes?: string): void;
  /** The next `count` KV data writes answer Vault's CAS mismatch, as if another writer had just won. */
  conflictNext(count: number): void;
  /** A token limited to `rules` (for least-privilege tests). */
  issueToken(rules: PolicyRule[], options?: { ttlSeconds?: number; maxTtlSeconds?: number; policyName?: string }): VaultToken;
  /** The KV engine of a mount in a namespace (`''` is the root namespace). */
  kv(mount?: string, namespace?: string): KvEngine;
  close(): Promise<void>;
}


export async function startVaultServer(options: VaultServerOptions): Promise<RunningVault> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const now = () => clock.now();
  const mounts = new Set(options.mounts ?? ['secret']);
  const engines = new Map<string, KvEngine>();
  const kv = (mount = 'secret', namespace = ''): KvEngine => {
    const key = `${namespace}\0${mount}`;
    let e = engines.get(key);
    if (!e) engines.set(key, (e = new KvEngine(now)));
    return e;
  };
  const tokens = new TokenStore(now);
  tokens.addRoot(options.rootToken);
  const knobs: VaultKnobs = { latencyMs: 0, faultRate: 0, ...options.knobs };
  const requests: VaultRequestLog[] = [];
  const pendingFaults: { status: number; pathIncludes?: string }[] = [];
  const lostAnswers: { status: number; pathIncludes?: string }[] = [];
  const state: VaultState = {
    tokens, kv, mounts, appRoles: options.appRoles ?? [], kubernetesRoles: options.kubernetesRoles ?? [],
    appRoleMount: options.appRoleMount ?? 'approle', kubernetesMount: options.kubernetesMount ?? 'kubernetes', casConflicts: 0,
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res);
  };
  const server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createServer(listener);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const namespaceHeader = req.headers['x-vault-namespace'];
    const namespace = (Array.isArray(namespaceHeader) ? namespaceHeader[0] : namespaceHeader)?.replace(/^\/+|\/+$/g, '') ?? '';
    const path = url.pathname.replace(/^\/v1\//, '').replace(/\/+$/, '');
    let status = 500;
    try {
      const raw = await readRequestBody(req);
      if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
      const forced = pendingFaults.findIndex((f) => !f.pathIncludes || `${method} ${path}`.includes(f.pathIncludes));
      if (forced !== -1) {
        const [f] = pendingFaults.splice(forced, 1);
        throw fail(f!.status, f!.status === 429 ? 'request rate limit exceeded' : 'injected fault: Vault is unavailable');
      }
      if (knobs.faultRate > 0 && random() < knobs.faultRate) throw fail(random() < 0.5 ? 500 : 503, 'injected fault: Vault is unavailable');
      if (!url.pathname.startsWith('/v1/')) throw fail(404);
      let body: Record<string, unknown> = {};
      if (raw !== null && raw.trim() !== '') {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
          else throw new Error('not an object');
        } catch (err) {
          throw fail(400, `failed to parse JSON input: ${(err as Error).message}`);
        }
      } else if (raw === null) throw fail(413, 'request body too large');
      const tokenHeader = req.headers['x-vault-token'];
      const answer = route(state, method, path, url.pathname.replace(/^\/v1\//, ''), url.searchParams, body, Array.isArray(tokenHeader) ? tokenHeader[0] : tokenHeader, namespace);
      const lost = lostAnswers.findIndex((f) => !f.pathIncludes || `${method} ${path}`.includes(f.pathIncludes));
      if (lost !== -1) {
        const [f] = lostAnswers.splice(lost, 1);
        throw fail(f!.status, 'injected fault: the answer was lost after the request was applied');
      }
      status = answer.status;
      send(res, answer.status, answer.body);
    } catch (err) {
      if (err instanceof HttpAnswer) {
        status = err.status;
        send(res, err.status, err.body);
      } else if (err instanceof KvError) {
        status = err.status;
        send(res, err.status, (err as KvError & { body?: unknown }).body ?? { errors: err.errors });
      } else {
        status = 500;
        send(res, 500, { errors: ['internal error'] });
      }
    } finally {
      requests.push({ method, path, namespace: namespace || null, status });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    rootToken: options.rootToken,
    knobs,
    tokens,
    requests,
    failNext(count, status = 503, pathIncludes) {
      for (let i = 0; i < count; i++) pendingFaults.push({ status, ...(pathIncludes ? { pathIncludes } : {}) });
    },
    failAfterNext(count, status = 503, pathIncludes) {
      for (let i = 0; i < count; i++) lostAnswers.push({ status, ...(pathIncludes ? { pathIncludes } : {}) });
    },
    conflictNext(count) {
      state.casConflicts += count;
    },
    issueToken(rules, o = {}) {
      return tokens.issue({ policies: rules, ...o });
    },
    kv,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}


function send(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === null) {
    res.writeHead(204);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
