import { describe, expect, it } from 'vitest';
import { isRetryAfter401 } from '../../src/client/retry-rule.js';

/** A 401'd call may be sent again with a new credential only when no user action can have been spent. */
describe('isRetryAfter401', () => {
  const err = (status: number, url?: string) => ({ name: 'DfnsError', httpStatus: status, context: url ? { url } : undefined });
  it.each([
    ['a read (the signer never asked)', err(401, 'https://api.dfns.io/wallets'), false, true],
    ['a mutation refused at /auth/action/init', err(401, 'https://api.dfns.io/auth/action/init'), true, true],
    ['a mutation refused at /auth/action (signing)', err(401, 'https://api.dfns.io/auth/action'), true, true],
    ['a signed mutation refused on the call itself', err(401, 'https://api.dfns.io/wallets/wa-1/transfers'), true, false],
    ['a signed mutation with no URL to tell', err(401), true, false],
    ['not a 401', err(403, 'https://api.dfns.io/auth/action/init'), false, false],
    ['not an SDK error', new Error('boom'), false, false],
  ])('%s', (_what, error, signed, expected) => {
    expect(isRetryAfter401(error, signed)).toBe(expected);
  });
});
