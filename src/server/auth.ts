import type { Request, RequestHandler, Response } from 'express';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { DashboardAuth } from '../config/types.js';
import type { Logger } from '../logger.js';
import { challengeHeader, checkCredentials, identityOf, type AuthVia } from './credentials.js';
import { escapeHtml, renderPage } from './html.js';
import type { LoginBackoff } from './login-backoff.js';
import { isStateChanging, requestSite } from './same-origin.js';
import type { Sessions } from './session.js';

export interface AuthDeps {
  /** null only with `insecureNoAuth` (tests on loopback). */
  auth: DashboardAuth | null;
  sessions: Sessions;
  backoff: LoginBackoff;
  logger: Logger;
  clock: Clock;
}

/**
 * Guards every route mounted after it. Order matters: credentials are checked before anything
 * else, so no unauthenticated request reaches bull-board; then a state-changing request carried
 * by ambient browser credentials (session cookie, cached basic auth) must come from our own
 * origin. A correct credential always passes, whatever failed before it from the same address
 * (behind a proxy that may be everyone): only wrong ones are counted and slowed down. Guessing
 * is then only as hard as the secret, so start-up requires a token of 16+ characters or a
 * password of 12+ (`init` and the demo mint 24 random bytes).
 */
export function requireAuth(deps: AuthDeps): RequestHandler {
  return (req, res, next) => {
    guard(deps, req, res).then((ok) => (ok ? next() : undefined), next);
  };
}

async function guard(deps: AuthDeps, req: Request, res: Response): Promise<boolean> {
  const auth = deps.auth;
  if (!auth) {
    res.locals.identity = identityOf(null);
    return !refuseCrossSite(req, res, 'none');
  }
  let check;
  try {
    check = await checkCredentials(req.headers, auth, deps.sessions, deps.clock.now());
  } catch (err) {
    // Only a session needs the shared state (is it revoked?): fail closed, and say what still works.
    deps.logger.warn({ err: describeError(err), path: req.path }, 'cannot check a dashboard session: the shared state (Redis) did not answer');
    res.status(503).json({ error: 'cannot check the session right now (Redis did not answer); try again, or send Authorization: Bearer <token>' });
    return false;
  }
  if (!check.ok && check.presented === null) {
    unauthenticated(req, res, auth, check.problem);
    return false;
  }
  // The key separates schemes, so a scraper with a wrong token does not slow down people at
  // the login form on the same host. Sessions are HMAC-checked values nobody can guess.
  if (!check.ok) {
    const verdict = await deps.backoff.failureBestEffort(`${req.ip ?? 'unknown'}|${check.presented}`, deps.logger);
    deps.logger.warn({ ip: req.ip, method: req.method, path: req.path, scheme: check.presented, problem: check.problem }, 'dashboard authentication failed');
    if (!verdict.allowed) tooManyAttempts(res, verdict.retryAfterMs);
    else unauthenticated(req, res, auth, check.problem);
    return false;
  }
  if (refuseCrossSite(req, res, check.via)) return false;
  res.locals.authVia = check.via;
  res.locals.identity = identityOf(auth);
  return true;
}

/** True when it answered: a state-changing request on ambient credentials from another site. */
function refuseCrossSite(req: Request, res: Response, via: AuthVia | 'none'): boolean {
  if (via === 'bearer' || !isStateChanging(req.method)) return false;
  const site = requestSite(req.headers);
  // A session cookie only ever comes from a browser, and browsers say where a request comes from:
  // silence is refused too. Basic auth is also used by scripts, which send neither header.
  const refused = site === 'cross-site' || (via === 'session' && site === 'unknown');
  if (refused) {
    res.status(403).json({ error: `refused: a ${req.method} with browser credentials must come from this dashboard's own pages (same origin)` });
  }
  return refused;
}

function wantsHtml(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
}

function unauthenticated(req: Request, res: Response, auth: DashboardAuth, problem: string): void {
  // Token auth: browsers go to the login form. Basic auth: the browser's own prompt (challenge).
  if (auth.kind === 'token' && wantsHtml(req)) {
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return;
  }
  res.status(401).setHeader('WWW-Authenticate', challengeHeader(auth));
  if (wantsHtml(req)) {
    res.type('html').send(
      renderPage({
        title: 'Sign in required',
        body: `<div class="card"><h1>Sign in required</h1><p>${escapeHtml(problem)}.</p><p><a href="/login?next=${escapeHtml(encodeURIComponent(req.originalUrl))}">Sign in with the login form</a></p></div>`,
      }),
    );
    return;
  }
  const how = auth.kind === 'token' ? 'send Authorization: Bearer <token>' : 'send basic-auth credentials';
  res.json({ error: `${problem}: ${how}` });
}

export function tooManyAttempts(res: Response, retryAfterMs: number): void {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  res.status(429).setHeader('Retry-After', String(seconds));
  res.json({ error: `too many wrong credentials from this address; try again in ${seconds} s (the right one is always accepted)` });
}
