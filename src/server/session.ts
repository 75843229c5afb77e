import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DashboardAuth } from '../config/types.js';
import { memoryDashboardState, type DashboardState } from './shared-state.js';

/**
 * Browser sessions after a login: the cookie holds `<expiry>.<nonce>.<mac>`, an HMAC-signed
 * expiry, never the token or password itself. The key is derived from the configured dashboard
 * secret (`sessionKeyFor`), so every replica behind a load balancer accepts the others' cookies,
 * and changing the secret signs everyone out. Logout revokes the nonce in the shared state
 * (Redis) until the session would have expired anyway, so it holds on every replica.
 */

export const SESSION_COOKIE = 'dfns_rotator_session';

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;

const CLOCK_SKEW_MS = 60_000;

export interface Sessions {
  /** A fresh signed cookie value and its lifetime. */
  issue(now: number): { value: string; maxAgeSeconds: number };
  verify(value: string, now: number): Promise<boolean>;
  revoke(value: string, now: number): Promise<void>;
}

/**
 * HKDF-SHA256 of the dashboard secret (RFC 5869), bound to this purpose by its `info`: the MAC
 * key is never the secret itself, and one secret gives one key on every replica.
 */
export function sessionKeyFor(auth: DashboardAuth): Buffer {
  const secret = auth.kind === 'token' ? auth.token.reveal() : `${auth.username}\u0000${auth.password.reveal()}`;
  return Buffer.from(hkdfSync('sha256', secret, 'dfns-rotator', 'dashboard session cookie v1', 32));
}

export function createSessions(options: { ttlMs?: number; key?: Buffer; state?: DashboardState } = {}): Sessions {
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 60_000) throw new RangeError(`session ttlMs must be at least 60000, got ${ttlMs}`);
  const key = options.key ?? randomBytes(32);
  const state = options.state ?? memoryDashboardState();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();

  function parse(value: string, now: number): { nonce: string; expiresAt: number } | null {
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [expText, nonce, macText] = parts as [string, string, string];
    if (!/^[0-9a-z]{1,12}$/.test(expText) || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) return null;
    const given = Buffer.from(macText, 'base64url');
    if (given.length !== 32 || !timingSafeEqual(given, mac(`${expText}.${nonce}`))) return null;
    const expiresAt = parseInt(expText, 36);
    // An expiry further away than one TTL was not issued under these rules (give or take the
    // clock skew between replicas: a replica a little behind must accept a fresh cookie).
    if (expiresAt <= now || expiresAt > now + ttlMs + CLOCK_SKEW_MS) return null;
    return { nonce, expiresAt };
  }

  return {
    issue(now) {
      const expText = (now + ttlMs).toString(36);
      const nonce = randomBytes(16).toString('base64url');
      const value = `${expText}.${nonce}.${mac(`${expText}.${nonce}`).toString('base64url')}`;
      return { value, maxAgeSeconds: Math.floor(ttlMs / 1000) };
    },
    async verify(value, now) {
      const session = parse(value, now);
      return session !== null && !(await state.isSessionRevoked(session.nonce));
    },
    async revoke(value, now) {
      const session = parse(value, now);
      if (session) await state.revokeSession(session.nonce, session.expiresAt, now);
    },
  };
}

/** Reads one cookie from a `Cookie` header (no cookie-parser dependency for one value). */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** HttpOnly, SameSite=Strict, Path=/; `Secure` when the dashboard is served over HTTPS (behind a proxy). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
