import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Browser sessions after a login: the cookie holds `<expiry>.<nonce>.<mac>`, an HMAC-signed
 * expiry, never the token or password itself. The key is random per process, so a restart
 * logs everyone out (there is nothing to leak or rotate). Logout revokes the nonce until the
 * session would have expired anyway.
 */

export const SESSION_COOKIE = 'dfns_rotator_session';

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;

/** Revoked nonces kept at most; beyond it the oldest are dropped (they expire within the TTL anyway). */
const MAX_REVOKED = 10_000;

export interface Sessions {
  /** A fresh signed cookie value and its lifetime. */
  issue(now: number): { value: string; maxAgeSeconds: number };
  verify(value: string, now: number): boolean;
  revoke(value: string, now: number): void;
}

export function createSessions(options: { ttlMs?: number; key?: Buffer } = {}): Sessions {
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 60_000) throw new RangeError(`session ttlMs must be at least 60000, got ${ttlMs}`);
  const key = options.key ?? randomBytes(32);
  const revoked = new Map<string, number>();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();

  function parse(value: string, now: number): { nonce: string; expiresAt: number } | null {
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [expText, nonce, macText] = parts as [string, string, string];
    if (!/^[0-9a-z]{1,12}$/.test(expText) || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) return null;
    const given = Buffer.from(macText, 'base64url');
    if (given.length !== 32 || !timingSafeEqual(given, mac(`${expText}.${nonce}`))) return null;
    const expiresAt = parseInt(expText, 36);
    // An expiry further away than one TTL was not issued by this process's rules.
    if (expiresAt <= now || expiresAt > now + ttlMs) return null;
    return { nonce, expiresAt };
  }

  function prune(now: number): void {
    for (const [nonce, expiresAt] of revoked) if (expiresAt <= now) revoked.delete(nonce);
    while (revoked.size > MAX_REVOKED) revoked.delete(revoked.keys().next().value!);
  }

  return {
    issue(now) {
      const expText = (now + ttlMs).toString(36);
      const nonce = randomBytes(16).toString('base64url');
      const value = `${expText}.${nonce}.${mac(`${expText}.${nonce}`).toString('base64url')}`;
      return { value, maxAgeSeconds: Math.floor(ttlMs / 1000) };
    },
    verify(value, now) {
      const session = parse(value, now);
      return session !== null && !revoked.has(session.nonce);
    },
    revoke(value, now) {
      const session = parse(value, now);
      if (!session) return;
      revoked.set(session.nonce, session.expiresAt);
      prune(now);
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
