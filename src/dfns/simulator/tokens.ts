import { generateKeyPairSync, sign, verify, randomUUID, type KeyObject } from 'node:crypto';

/**
 * JWTs the simulator issues: access tokens (login, SA, PAT), challenge identifiers and user-action
 * tokens. EdDSA over a key made at start, so a token from another simulator run, or an edited one,
 * fails verification. Only the `https://custom/app_metadata` claim is read by the SDK (its
 * `orgId`); the rest follows the community-observed Dfns shape (UNCONFIRMED).
 */
export const APP_METADATA_CLAIM = 'https://custom/app_metadata';
export const USERNAME_CLAIM = 'https://custom/username';

/** `tokenKind` in app_metadata. Login tokens use `Token` (an AccessToken kind in the SDK types). */
export type TokenKind = 'Token' | 'ServiceAccount' | 'Pat';

export interface AppMetadata {
  userId: string;
  orgId: string;
  tokenKind: TokenKind;
  tokenId?: string;
}

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  iat: number;
  exp?: number;
  [USERNAME_CLAIM]: string;
  [APP_METADATA_CLAIM]: AppMetadata;
}

/** Claims of the simulator's internal tokens (challenge identifiers, user actions). */
export interface InternalClaims {
  typ: 'challenge' | 'userAction';
  jti: string;
  iat: number;
  exp: number;
}

const ISSUER = 'auth.dfns.io';
const AUDIENCE = 'dfns:auth:user';

export class JwtIssuer {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #kid: string;
  readonly #header: string;
  /** Verified signatures by token string: verification is the per-request cost worth saving. */
  readonly #verified = new Map<string, Record<string, unknown>>();

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#kid = randomUUID();
    this.#header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: this.#kid })).toString('base64url');
  }

  accessToken(input: {
    orgId: string; userId: string; username: string; tokenKind: TokenKind; tokenId?: string;
    iatMs: number; expMs: number | null;
  }): string {
    const metadata: AppMetadata = { userId: input.userId, orgId: input.orgId, tokenKind: input.tokenKind };
    if (input.tokenId) metadata.tokenId = input.tokenId;
    const claims: AccessTokenClaims = {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: `${input.orgId}|${input.userId}`,
      jti: input.tokenId ?? `to-${randomUUID()}`,
      iat: Math.floor(input.iatMs / 1000),
      [USERNAME_CLAIM]: input.username,
      [APP_METADATA_CLAIM]: metadata,
    };
    if (input.expMs !== null) claims.exp = Math.floor(input.expMs / 1000);
    return this.#sign(claims);
  }

  internal(typ: InternalClaims['typ'], id: string, iatMs: number, expMs: number): string {
    return this.#sign({ typ, jti: id, iat: Math.floor(iatMs / 1000), exp: Math.floor(expMs / 1000) });
  }

  /** The payload when the signature is ours, else null. Expiry is the caller's rule (simulator clock). */
  verify(token: string): Record<string, unknown> | null {
    const cached = this.#verified.get(token);
    if (cached) return cached;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    if (header !== this.#header) return null;
    const ok = verify(null, Buffer.from(`${header}.${payload}`), this.#publicKey, Buffer.from(signature, 'base64url'));
    if (!ok) return null;
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
    if (this.#verified.size >= 5000) this.#verified.clear();
    this.#verified.set(token, claims);
    return claims;
  }

  #sign(claims: object): string {
    const input = `${this.#header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${input}.${sign(null, Buffer.from(input), this.#privateKey).toString('base64url')}`;
  }
}

export function isAccessTokenClaims(claims: Record<string, unknown>): claims is AccessTokenClaims & Record<string, unknown> {
  const meta = claims[APP_METADATA_CLAIM] as Partial<AppMetadata> | undefined;
  return (
    typeof claims.jti === 'string' && typeof claims.iat === 'number' &&
    (claims.exp === undefined || typeof claims.exp === 'number') &&
    !!meta && typeof meta.userId === 'string' && typeof meta.orgId === 'string' && typeof meta.tokenKind === 'string'
  );
}
