import express, { type Request, type Response, type Router } from 'express';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { DashboardAuth } from '../config/types.js';
import type { Logger } from '../logger.js';
import { checkLoginForm } from './credentials.js';
import type { LoginBackoff } from './login-backoff.js';
import { renderLoginPage, safeNext } from './login-page.js';
import { requestSite } from './same-origin.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie, type Sessions } from './session.js';

export interface LoginDeps {
  auth: DashboardAuth;
  sessions: Sessions;
  backoff: LoginBackoff;
  logger: Logger;
  clock: Clock;
  secureCookies: boolean;
}

/** `/login` (form and post) and `/logout`. Mounted before the auth guard: they are how one gets past it. */
export function loginRoutes(deps: LoginDeps): Router {
  const router = express.Router();
  const mode = deps.auth.kind;

  router.get('/login', async (req, res) => {
    const next = safeNext(req.query.next);
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const signedIn = cookie ? await deps.sessions.verify(cookie, deps.clock.now()).catch(() => false) : false;
    if (signedIn) return res.redirect(303, next);
    sendPage(res, 200, renderLoginPage({ mode, next }));
  });

  router.post('/login', express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), async (req, res) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(form.next);
    // Login CSRF: another site must not sign a browser in to this dashboard.
    if (requestSite(req.headers) === 'cross-site') {
      return sendPage(res, 403, renderLoginPage({ mode, next, error: 'Refused: the sign-in form must be posted from this dashboard.' }));
    }
    const key = `${req.ip ?? 'unknown'}|login`;
    // The credential first: the right one is never refused, however many wrong ones came before.
    if (!checkLoginForm(form, deps.auth)) {
      const verdict = await deps.backoff.failureBestEffort(key, deps.logger);
      deps.logger.warn({ ip: req.ip, path: '/login', scheme: 'login-form' }, 'dashboard sign-in failed');
      if (!verdict.allowed) {
        const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        res.setHeader('Retry-After', String(seconds));
        return sendPage(res, 429, renderLoginPage({ mode, next, error: `Too many failed attempts from this address. Wait ${seconds} s before the next try.` }));
      }
      const what = mode === 'token' ? 'That token is not right.' : 'Wrong username or password.';
      return sendPage(res, 401, renderLoginPage({ mode, next, error: what }));
    }
    const session = deps.sessions.issue(deps.clock.now());
    res.setHeader('Set-Cookie', sessionCookie(session.value, session.maxAgeSeconds, deps.secureCookies));
    deps.logger.info({ ip: req.ip }, 'dashboard sign-in');
    res.redirect(303, next);
  });

  const logout = async (req: Request, res: Response) => {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    res.setHeader('Set-Cookie', clearedSessionCookie(deps.secureCookies));
    try {
      if (cookie) await deps.sessions.revoke(cookie, deps.clock.now());
    } catch (err) {
      // The cookie is cleared in this browser, but a copy would still work until it expires: say so.
      deps.logger.error({ err: describeError(err) }, 'dashboard logout could not be recorded (Redis did not answer)');
      return sendPage(res, 503, renderLoginPage({ mode, next: '/inventory', error: 'Signed out in this browser, but the sign-out could not be recorded (Redis did not answer): sign out again once it is back.' }));
    }
    res.redirect(303, '/login');
  };
  // GET too, so a plain link works; the worst a forged logout can do is sign someone out.
  router.get('/logout', logout);
  router.post('/logout', logout);
  return router;
}

function sendPage(res: Response, status: number, html: string): void {
  res.status(status).type('html').send(html);
}
