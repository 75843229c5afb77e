/**
 * Reads Dfns access tokens (JWTs) without verifying them: the worker needs their `exp` and ids,
 * never their authenticity (Dfns checks that). Results never quote the token, because a reason
 * string ends up in logs and Slack messages.
 */

/** Where Dfns puts its own claims (the SDK reads `orgId` from here: `utils/authToken.js`). */
export const DFNS_APP_METADATA_CLAIM = 'https://custom/app_metadata';

export type TokenExpiry =
  | { kind: 'expires'; /** epoch ms */ expiresAt: number }
  | { kind: 'no-expiry' }
  | { kind: 'malformed'; reason: string };

export type DecodedClaims = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes the payload of a compact JWS. Never throws. */
export function decodeJwtClaims(token: string): DecodedClaims {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'empty token' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: `expected 3 dot-separated parts, found ${parts.length}` };
  const [header, payload] = parts as [string, string, string];
  for (const [name, part] of [['header', header], ['payload', payload]] as const) {
    if (!BASE64URL.test(part)) return { ok: false, reason: `${name} is not base64url` };
  }
  let claims: unknown;
  try {
    JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'header is not JSON' };
  }
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  return { ok: true, claims: claims as Record<string, unknown> };
}

/** The exact expiry of a token from its `exp` claim (seconds since the epoch, per RFC 7519). */
export function readTokenExpiry(token: string): TokenExpiry {
  const decoded = decodeJwtClaims(token);
  if (!decoded.ok) return { kind: 'malformed', reason: decoded.reason };
  if (!('exp' in decoded.claims) || decoded.claims.exp === undefined) return { kind: 'no-expiry' };
  const exp = decoded.claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp < 0) {
    return { kind: 'malformed', reason: `exp is not a non-negative number (found ${exp === null ? 'null' : typeof exp})` };
  }
  return { kind: 'expires', expiresAt: Math.round(exp * 1000) };
}

export interface TokenIdentity {
  orgId?: string;
  userId?: string;
  tokenId?: string;
  /** Dfns' token kind when present (e.g. `ServiceAccount`, `Pat`, `Temp`). */
  kind?: string;
  /** `sub`, when present. */
  subject?: string;
}

/**
 * Ids carried by a token. Only `app_metadata.orgId` is confirmed (the SDK reads it); the other
 * names are UNCONFIRMED (seen in community code), so each is read only when it is a string.
 */
export function readTokenIdentity(token: string): TokenIdentity {
  const decoded = decodeJwtClaims(token);
  if (!decoded.ok) return {};
  const claims = decoded.claims;
  const raw = claims[DFNS_APP_METADATA_CLAIM];
  const md: Record<string, unknown> = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const identity: TokenIdentity = {};
  const orgId = str(md.orgId);
  const userId = str(md.userId);
  const tokenId = str(md.tokenId);
  const kind = str(md.tokenKind) ?? str(md.kind);
  const subject = str(claims.sub);
  if (orgId) identity.orgId = orgId;
  if (userId) identity.userId = userId;
  if (tokenId) identity.tokenId = tokenId;
  if (kind) identity.kind = kind;
  if (subject) identity.subject = subject;
  return identity;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
