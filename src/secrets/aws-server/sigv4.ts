import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsApiError } from './aws-errors.js';

/**
 * AWS Signature Version 4 verification for the local Secrets Manager server, from the published
 * "Create a signed AWS API request" steps: canonical request → string to sign → HMAC chain of the
 * secret key over date, region, service and `aws4_request`. Only header signing (the SDK's way);
 * presigned query strings are not accepted. Errors are the ones AWS answers: an unknown access
 * key is `UnrecognizedClientException`, a wrong signature `InvalidSignatureException`.
 */

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (STS): requests must carry it in `x-amz-security-token`. */
  sessionToken?: string;
}

/** AWS refuses a request signed more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60_000;

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

export function verifySigV4(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: Buffer },
  credentials: readonly SigV4Credentials[],
  service: string,
  nowMs: number,
): { accessKeyId: string; region: string } {
  const auth = header(request.headers, 'authorization');
  if (!auth) throw new AwsApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
  const m = AUTH_RE.exec(auth.trim());
  if (!m) throw new AwsApiError('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters with algorithm AWS4-HMAC-SHA256.', 400);
  const [, accessKeyId, scopeDate, region, scopeService, signedHeaderList, signature] = m as unknown as [string, string, string, string, string, string, string];
  const known = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!known || (known.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== known.sessionToken)) {
    throw new AwsApiError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
  }
  if (scopeService !== service) throw new AwsApiError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`, 400);

  const amzDate = header(request.headers, 'x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) throw new AwsApiError('IncompleteSignatureException', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.', 400);
  if (amzDate.slice(0, 8) !== scopeDate) throw new AwsApiError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}'`, 400);
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(nowMs - signedAt) > MAX_SKEW_MS) throw new AwsApiError('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier or later than 15 minutes from the server time.`, 400);

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) throw new AwsApiError('InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", 400);
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join('');
  // The body is always hashed here: a client-sent x-amz-content-sha256 is checked, never trusted.
  const payloadHash = sha256Hex(request.body);
  const claimed = header(request.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== payloadHash) throw new AwsApiError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
  const [path = '/', query = ''] = request.path.split('?', 2);
  const canonicalRequest = [request.method, canonicalUri(path), canonicalQuery(query), canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${known.secretAccessKey}`, scopeDate), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AwsApiError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.', 400);
  }
  return { accessKeyId, region };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function canonicalHeaderValue(v: string | string[] | undefined): string {
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return values.map((s) => s.trim().replace(/\s+/g, ' ')).join(',');
}

/** Each path segment URI-encoded once (RFC 3986 unreserved characters kept), as non-S3 services sign. */
function canonicalUri(path: string): string {
  return path.split('/').map((seg) => encodeRfc3986(decodeURIComponent(seg))).join('/') || '/';
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k = '', v = ''] = pair.split('=', 2);
      return [encodeRfc3986(decodeURIComponent(k.replace(/\+/g, ' '))), encodeRfc3986(decodeURIComponent(v.replace(/\+/g, ' ')))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
