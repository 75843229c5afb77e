import type { IncomingHttpHeaders } from 'node:http';
import type { DashboardAuth } from '../config/types.js';
import { safeEqual } from './safe-equal.js';
import { readCookie, SESSION_COOKIE, type Sessions } from './session.js';

/** How a request proved who it is: bearer and basic are explicit; a session cookie is ambient (CSRF-prone). */
export type AuthVia = 'bearer' | 'basic' | 'session';

export type CredentialCheck =
  | { ok: true; via: AuthVia }
  /** Credentials were presented and are wrong: counts towards the backoff and is logged. */
  | { ok: false; presented: 'bearer' | 'basic'; problem: string }
  /** Nothing usable was presented (no header; a missing, expired or revoked session). */
  | { ok: false; presented: null; problem: string };

/**
 * Checks the `Authorization` header (explicit credentials win) or else the session cookie.
 * Token auth takes `Bearer <token>`; basic auth takes `Basic base64(user:password)`. All
 * comparisons are constant-time, and user and password are both compared before deciding.
 */
export async function checkCredentials(headers: IncomingHttpHeaders, auth: DashboardAuth, sessions: Sessions, now: number): Promise<CredentialCheck> {
  const header = headers.authorization;
  if (typeof header === 'string' && header.trim() !== '') {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (auth.kind !== 'token') return { ok: false, presented: 'bearer', problem: 'this dashboard uses basic auth, not a bearer token' };
      return safeEqual(value, auth.token.reveal()) ? { ok: true, via: 'bearer' } : { ok: false, presented: 'bearer', problem: 'wrong bearer token' };
    }
    if (scheme === 'basic') {
      if (auth.kind !== 'basic') return { ok: false, presented: 'basic', problem: 'this dashboard uses a bearer token, not basic auth' };
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { ok: false, presented: 'basic', problem: 'malformed basic credentials' };
      return checkBasic(decoded.slice(0, colon), decoded.slice(colon + 1), auth)
        ? { ok: true, via: 'basic' }
        : { ok: false, presented: 'basic', problem: 'wrong username or password' };
    }
    return { ok: false, presented: auth.kind === 'token' ? 'bearer' : 'basic', problem: 'unsupported Authorization scheme' };
  }
  const cookie = readCookie(headers.cookie, SESSION_COOKIE);
  if (cookie) {
    return (await sessions.verify(cookie, now)) ? { ok: true, via: 'session' } : { ok: false, presented: null, problem: 'session expired or invalid: log in again' };
  }
  return { ok: false, presented: null, problem: 'authentication required' };
}

/** Both halves are always compared, so timing does not tell a right username from a wrong one. */
export function checkBasic(username: string, password: string, auth: Extract<DashboardAuth, { kind: 'basic' }>): boolean {
  const userOk = safeEqual(username, auth.username);
  const passOk = safeEqual(password, auth.password.reveal());
  return userOk && passOk;
}

/** What the login form accepts, checked like the header forms. */
export function checkLoginForm(form: Record<string, unknown>, auth: DashboardAuth): boolean {
  const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
  if (auth.kind === 'token') return safeEqual(field('token').trim(), auth.token.reveal());
  return checkBasic(field('username'), field('password'), auth);
}

/** Who is acting, for the audit log and job data: the basic-auth user, or the holder of the token. */
export function identityOf(auth: DashboardAuth | null): string {
  if (!auth) return 'dashboard:no-auth';
  return auth.kind === 'basic' ? `dashboard:${auth.username}` : 'dashboard:token';
}

export function challengeHeader(auth: DashboardAuth): string {
  return auth.kind === 'token' ? 'Bearer realm="dfns-rotator"' : 'Basic realm="dfns-rotator", charset="UTF-8"';
}
