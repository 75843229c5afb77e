import { describe, expect, it } from 'vitest';
import { DFNS_APP_METADATA_CLAIM, decodeJwtClaims, readTokenExpiry, readTokenIdentity } from '../../src/dfns/jwt.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwt = (payload: unknown, header: unknown = { alg: 'EdDSA', typ: 'JWT' }) => `${b64(header)}.${b64(payload)}.c2lnbmF0dXJl`;

describe('readTokenExpiry', () => {
  it('reads exp (seconds) as an exact epoch-ms expiry', () => {
    expect(readTokenExpiry(jwt({ exp: 1_767_225_600 }))).toEqual({ kind: 'expires', expiresAt: 1_767_225_600_000 });
    expect(readTokenExpiry(jwt({ exp: 1_767_225_600.5 }))).toEqual({ kind: 'expires', expiresAt: 1_767_225_600_500 });
  });

  it('reports a token without exp', () => {
    expect(readTokenExpiry(jwt({ sub: 'us-1' }))).toEqual({ kind: 'no-expiry' });
  });

  const malformed: [string, string, RegExp][] = [
    ['not 3 parts', 'abc.def', /3 dot-separated parts, found 2/],
    ['4 parts', 'a.b.c.d', /found 4/],
    ['empty', '', /empty/],
    ['bad base64', `${b64({ alg: 'x' })}.ey!!J.sig`, /payload is not base64url/],
    ['non-JSON payload', `${b64({ alg: 'x' })}.${b64('not json {')}.sig`, /payload is not JSON/],
    ['non-JSON header', `${b64('nope')}.${b64({ exp: 1 })}.sig`, /header is not JSON/],
    ['payload not an object', jwt([1, 2]), /not a JSON object/],
    ['exp a string', jwt({ exp: '1767225600' }), /exp is not a non-negative number \(found string\)/],
    ['exp null', jwt({ exp: null }), /found null/],
    ['exp negative', jwt({ exp: -5 }), /exp is not a non-negative number/],
  ];
  it.each(malformed)('%s -> malformed, with a reason that does not quote the token', (_name, token, reason) => {
    const result = readTokenExpiry(token);
    expect(result.kind).toBe('malformed');
    if (result.kind !== 'malformed') return;
    expect(result.reason).toMatch(reason);
    for (const part of token.split('.').filter((p) => p.length > 3)) expect(result.reason).not.toContain(part);
  });
});

describe('readTokenIdentity', () => {
  it('reads Dfns app_metadata claims and sub', () => {
    const token = jwt({
      sub: 'us-123',
      [DFNS_APP_METADATA_CLAIM]: { orgId: 'or-1', userId: 'us-123', tokenId: 'to-9', tokenKind: 'ServiceAccount' },
    });
    expect(readTokenIdentity(token)).toEqual({ orgId: 'or-1', userId: 'us-123', tokenId: 'to-9', kind: 'ServiceAccount', subject: 'us-123' });
  });

  it('ignores claims of the wrong type and unreadable tokens', () => {
    expect(readTokenIdentity(jwt({ [DFNS_APP_METADATA_CLAIM]: { orgId: 7, userId: '' } }))).toEqual({});
    expect(readTokenIdentity('garbage')).toEqual({});
  });

  it('decodeJwtClaims returns the payload object', () => {
    expect(decodeJwtClaims(jwt({ a: 1 }))).toEqual({ ok: true, claims: { a: 1 } });
  });
});
