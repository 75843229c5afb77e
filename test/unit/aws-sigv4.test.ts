import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../../src/secrets/aws-server/sigv4.js';

// AWS' published Signature Version 4 test suite (get-vanilla, get-vanilla-query-order-key-case):
// the local Secrets Manager's verifier accepts exactly the signatures AWS documents.
const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const auth = (signature: string) => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`;
const request = (path: string, authorization: string) => ({
  method: 'GET', path, body: Buffer.alloc(0),
  headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z', authorization },
});
const VANILLA = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
const QUERY_ORDER = 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500';

describe('SigV4 verification', () => {
  it("accepts the signatures of AWS' test suite", () => {
    expect(verifySigV4(request('/', auth(VANILLA)), [KEY], 'service', AT)).toEqual({ accessKeyId: 'AKIDEXAMPLE', region: 'us-east-1' });
    expect(verifySigV4(request('/?Param2=value2&Param1=value1', auth(QUERY_ORDER)), [KEY], 'service', AT).region).toBe('us-east-1');
  });

  it.each([
    ['a signature of another request', request('/other', auth(VANILLA)), [KEY], 'InvalidSignatureException'],
    ['a wrong secret key', request('/', auth(VANILLA)), [{ ...KEY, secretAccessKey: 'x' }], 'InvalidSignatureException'],
    ['an unknown access key', request('/', auth(VANILLA)), [{ ...KEY, accessKeyId: 'AKIDOTHER' }], 'UnrecognizedClientException'],
    ['no Authorization header', { ...request('/', ''), headers: { host: 'example.amazonaws.com' } }, [KEY], 'MissingAuthenticationTokenException'],
    ['a malformed Authorization header', request('/', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE'), [KEY], 'IncompleteSignatureException'],
  ])('refuses %s', (_what, req, keys, type) => {
    expect(() => verifySigV4(req, keys, 'service', AT)).toThrow(expect.objectContaining({ type }));
  });

  it('refuses a request signed more than 15 minutes away from the server clock, and one scoped to another service', () => {
    expect(() => verifySigV4(request('/', auth(VANILLA)), [KEY], 'service', AT + 16 * 60_000)).toThrow(/Signature expired/);
    expect(() => verifySigV4(request('/', auth(VANILLA)), [KEY], 'secretsmanager', AT)).toThrow(/scoped to correct service/);
  });
});
