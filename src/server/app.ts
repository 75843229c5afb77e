import type { Queue } from 'bullmq';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../clock.js';
import type { DashboardAuth } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { AuditLog } from '../jobs/state/audit.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import type { ScanPage, StoredScan } from '../jobs/state/scan-results.js';
import type { Logger } from '../logger.js';
import { requireAuth } from './auth.js';
import { queueHints, type QueueHint } from './dashboard-hints.js';
import { DASHBOARD_PATH } from './dashboard-path.js';
import { lazyDashboard } from './lazy-dashboard.js';
import { healthRoutes, type HealthState } from './health.js';
import { inventoryRoutes } from './inventory-route.js';
import { LoginBackoff, type BackoffSettings } from './login-backoff.js';
import { loginRoutes } from './login-routes.js';
import type { Readiness } from './readiness.js';
import { securityHeaders } from './security-headers.js';
import { addJobGuard } from './add-job-guard.js';
import { dashboardAudit } from './dashboard-audit.js';
import { allowedHostNames, hostAllowList } from './host-check.js';
import { boundedJson } from './json-body.js';
import { createSessions, sessionKeyFor } from './session.js';
import { memoryDashboardState, type DashboardState } from './shared-state.js';

export interface AppOptions {
  /** Required in production. null only together with `insecureNoAuth: true`, on a loopback host. */
  auth: DashboardAuth | null;
  insecureNoAuth?: boolean;
  /** Only used to refuse `insecureNoAuth` off loopback. */
  host: string;
  /** BullMQ queues shown (read-write) on the dashboard. */
  queues: readonly Queue[];
  readiness: Readiness;
  /** One page (0-based) of the last scan; a loader without pages returns the whole scan. */
  loadInventory: (page: number) => Promise<ScanPage | StoredScan | null>;
  loadRecentRotations?: () => Promise<RotationRecord[]>;
  registry: Registry;
  logger: Logger;
  clock?: Clock;
  sessionTtlMs?: number;
  loginBackoff?: Partial<BackoffSettings>;
  /** Mark the session cookie `Secure`: set when users reach the dashboard over HTTPS (a TLS proxy). */
  secureCookies?: boolean;
  /** Express `trust proxy`, so `req.ip` (backoff, logs) is the client behind a reverse proxy. */
  trustProxy?: boolean | number | string;
  livezFailsWhenShuttingDown?: boolean;
  /** Per-queue descriptions and add-job schemas; defaults to `queueHints()`. */
  queueHints?: Record<string, QueueHint>;
  /** Revoked sessions and sign-in failures, shared by replicas (Redis); in memory when absent. */
  dashboardState?: DashboardState;
  /** Where dashboard triggers are recorded ("requested" entries). */
  audit?: Pick<AuditLog, 'record'>;
  /** Resolves a rotate job's credential to its secret (a typo is refused at Add job, not in the worker). */
  resolveSecret?: (credential: string) => Promise<string>;
  /** Host names served besides the bound address and loopback (DNS-rebinding guard). */
  allowedHosts?: readonly string[];
}

export interface App {
  app: Express;
  setShuttingDown(): void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The daemon's HTTP side. Route order is the security model: probes and the login form first
 * (no credentials), then the guard, then everything else — the dashboard, its API, the
 * inventory and /metrics are unreachable without credentials.
 */
export function createApp(options: AppOptions): App {
  const auth = checkAuthOptions(options);
  const clock = options.clock ?? systemClock;
  const state: HealthState = { shuttingDown: false };
  const shared = options.dashboardState ?? memoryDashboardState();
  const sessions = createSessions({
    state: shared,
    ...(auth ? { key: sessionKeyFor(auth) } : {}),
    ...(options.sessionTtlMs !== undefined ? { ttlMs: options.sessionTtlMs } : {}),
  });
  const backoff = new LoginBackoff(clock, options.loginBackoff, shared);
  const logger = options.logger;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(securityHeaders({ hsts: options.secureCookies ?? false }));
  // Before every route, the probes excepted (they answer any Host): see host-check.ts.
  app.use(hostAllowList(allowedHostNames(options.host, options.allowedHosts)));
  app.use(
    healthRoutes({
      readiness: options.readiness,
      state,
      logger,
      ...(options.livezFailsWhenShuttingDown !== undefined ? { livezFailsWhenShuttingDown: options.livezFailsWhenShuttingDown } : {}),
    }),
  );
  // Browsers ask for it on every page, the login form included: no 401 noise for it.
  app.get('/favicon.ico', (_req, res) => res.status(204).end());
  if (auth) app.use(loginRoutes({ auth, sessions, backoff, logger, clock, secureCookies: options.secureCookies ?? false }));
  app.use(requireAuth({ auth, sessions, backoff, logger, clock }));

  app.get('/', (_req, res) => res.redirect(303, '/inventory'));
  // Prometheus authenticates like any API client. Token auth:
  //   authorization: { type: Bearer, credentials_file: /run/secrets/dfns-rotator-dashboard-token }
  // Basic auth: basic_auth: { username: ops, password_file: /run/secrets/dfns-rotator-dashboard-password }
  // A scraper with a wrong secret is slowed down (429) apart from people signing in (own backoff key).
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });
  app.use(
    inventoryRoutes({
      loadInventory: options.loadInventory,
      ...(options.loadRecentRotations ? { loadRecentRotations: options.loadRecentRotations } : {}),
      clock,
      logger,
    }),
  );
  app.use(
    DASHBOARD_PATH,
    boundedJson(),
    dashboardAudit({ clock, logger, ...(options.audit ? { audit: options.audit } : {}) }),
    addJobGuard({ clock, logger, ...(options.audit ? { audit: options.audit } : {}), ...(options.resolveSecret ? { resolveSecret: options.resolveSecret } : {}) }),
  );
  app.use(DASHBOARD_PATH, lazyDashboard(options.queues, options.queueHints ?? queueHints()));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err, method: req.method, path: req.path }, 'dashboard request failed');
    if (res.headersSent) return;
    res.status(status).json({ error: status === 500 ? 'internal error (see the daemon log)' : 'bad request' });
  };
  app.use(onError);

  return {
    app,
    setShuttingDown() {
      state.shuttingDown = true;
    },
  };
}

function checkAuthOptions(options: AppOptions): DashboardAuth | null {
  if (options.auth) {
    const secret = options.auth.kind === 'token' ? options.auth.token.reveal() : options.auth.password.reveal();
    if (secret.trim() === '') throw new ConfigError([`server.auth: the dashboard ${options.auth.kind === 'token' ? 'token' : 'password'} is empty`]);
    if (options.auth.kind === 'basic' && options.auth.username === '') throw new ConfigError(['server.auth.username: empty']);
    return options.auth;
  }
  if (options.insecureNoAuth !== true) {
    throw new ConfigError([
      'server.auth: the dashboard can trigger scans and rotations, so it needs a token or a username and password; there is no default password',
    ]);
  }
  if (!LOOPBACK.has(options.host)) throw new ConfigError([`server.host: insecureNoAuth is only allowed on a loopback address, not ${options.host}`]);
  return null;
}
