import { describe, expect, it } from 'vitest';
import { DfnsForbiddenError, DfnsPolicyPendingError, DfnsValidationError } from '../../src/dfns/errors.js';
import { classifyFailure } from '../../src/dfns/failure.js';
import type { RequestOutcome, RequestRecord } from '../../src/dfns/transport.js';

const NOW = Date.UTC(2025, 0, 1);
const ctx = { timeoutMs: 15_000, nowMs: NOW };

/** The requests of a user-action mutation that failed at `step`. */
function mutation(step: 'action-init' | 'action-sign' | 'call', outcome: RequestOutcome): RequestRecord[] {
  const ok: RequestOutcome = { kind: 'answered', status: 200 };
  const records: RequestRecord[] = [{ method: 'POST', route: '/auth/action/init', step: 'action-init', signed: false, outcome: step === 'action-init' ? outcome : ok }];
  if (step === 'action-init') return records;
  records.push({ method: 'POST', route: '/auth/action', step: 'action-sign', signed: false, outcome: step === 'action-sign' ? outcome : ok });
  if (step === 'action-sign') return records;
  records.push({ method: 'POST', route: '/auth/service-accounts', step: 'call', signed: true, outcome });
  return records;
}

const sdkError = (httpStatus: number, message = 'from sdk') => Object.assign(new Error(message), { name: 'DfnsError', httpStatus });
const fetchError = (code: string) => Object.assign(new Error(`request to http://x/auth failed, reason: ${code}`), { name: 'FetchError', type: 'system', code });

describe('classifyFailure', () => {
  it.each([
    ['timeout', { kind: 'timeout' } as RequestOutcome, 'DFNS_TIMEOUT'],
    ['dropped connection', { kind: 'network', code: 'ECONNRESET' } as RequestOutcome, 'DFNS_NETWORK'],
    ['5xx', { kind: 'answered', status: 503 } as RequestOutcome, 'DFNS_SERVER'],
  ])('a %s of the signed request is ambiguous; of a signing step it is not', (_name, outcome, code) => {
    for (const step of ['action-init', 'action-sign'] as const) {
      const f = classifyFailure('createServiceAccount', new Error('x'), mutation(step, outcome), ctx);
      expect([f.error.code, f.retryable, f.ambiguous]).toEqual([code, true, false]);
    }
    const f = classifyFailure('createServiceAccount', new Error('x'), mutation('call', outcome), ctx);
    expect([f.error.code, f.retryable, f.ambiguous]).toEqual([code, true, true]);
    expect(f.error.operation).toBe('createServiceAccount');
    expect(f.error.path).toBe('/auth/service-accounts');
  });

  it('a refused connection never reached Dfns: not ambiguous', () => {
    const f = classifyFailure('createServiceAccount', fetchError('ECONNREFUSED'), mutation('call', { kind: 'network', code: 'ECONNREFUSED' }), ctx);
    expect([f.error.code, f.retryable, f.ambiguous]).toEqual(['DFNS_NETWORK', true, false]);
    expect(f.error.message).toBe('createServiceAccount: connection failed (ECONNREFUSED) on POST /auth/service-accounts');
  });

  it('maps statuses through dfnsErrorFromStatus, with Dfns error id and message', () => {
    const outcome: RequestOutcome = { kind: 'answered', status: 403, dfnsErrorId: 'err-77', dfnsMessage: 'ServiceAccount us-1 is not authorized' };
    const f = classifyFailure('createPersonalAccessToken', sdkError(403), mutation('call', outcome), ctx);
    expect(f.error).toBeInstanceOf(DfnsForbiddenError);
    expect(f.error.dfnsErrorId).toBe('err-77');
    expect(f.error.message).toContain('ServiceAccount us-1 is not authorized');
    expect([f.retryable, f.ambiguous]).toEqual([false, false]);
  });

  it.each([400, 401, 402, 403, 404, 409])('%i is not retried', (status) => {
    const f = classifyFailure('op', sdkError(status), mutation('call', { kind: 'answered', status }), ctx);
    expect(f.retryable).toBe(false);
    expect(f.ambiguous).toBe(false);
  });

  it('202 is a policy approval, never retried, with the approval id', () => {
    const f = classifyFailure('archiveServiceAccount', sdkError(202), mutation('call', { kind: 'answered', status: 202, approvalId: 'ap-5' }), ctx);
    expect(f.error).toBeInstanceOf(DfnsPolicyPendingError);
    expect((f.error as DfnsPolicyPendingError).approvalId).toBe('ap-5');
    expect(f.retryable).toBe(false);
  });

  it('429 carries Retry-After, in seconds or as a date', () => {
    const seconds = classifyFailure('op', sdkError(429), mutation('action-init', { kind: 'answered', status: 429, retryAfter: '3' }), ctx);
    expect([seconds.error.code, seconds.retryable, seconds.retryAfterMs]).toEqual(['DFNS_RATE_LIMITED', true, 3_000]);
    const date = classifyFailure('op', sdkError(429), mutation('call', { kind: 'answered', status: 429, retryAfter: new Date(NOW + 10_000).toUTCString() }), ctx);
    expect(date.retryAfterMs).toBe(10_000);
    expect(date.ambiguous).toBe(false);
    const none = classifyFailure('op', sdkError(429), mutation('call', { kind: 'answered', status: 429 }), ctx);
    expect(none.retryAfterMs).toBeUndefined();
  });

  it('maps by the recorded status even when the error body was not JSON', () => {
    const f = classifyFailure('listServiceAccounts', new SyntaxError('Unexpected token <'), [
      { method: 'GET', route: '/auth/service-accounts', step: 'call', signed: false, outcome: { kind: 'answered', status: 502 } },
    ], ctx);
    expect([f.error.code, f.error.status, f.retryable, f.ambiguous]).toEqual(['DFNS_SERVER', 502, true, false]);
  });

  it('an unreadable 2xx answer to the signed request is ambiguous and never quotes the body', () => {
    const body = 'eyJhbGciOiJFZERTQSJ9.secret';
    const thrown = Object.assign(new Error(`invalid json response body at http://x reason: Unexpected token in "${body}"`), { name: 'FetchError', type: 'invalid-json' });
    const f = classifyFailure('createServiceAccount', thrown, mutation('call', { kind: 'answered', status: 200 }), ctx);
    expect([f.error.code, f.retryable, f.ambiguous]).toEqual(['DFNS_INVALID_ANSWER', false, true]);
    expect(f.error.message).not.toContain(body);
    expect(f.error.cause).toBeUndefined();
  });

  it('errors thrown in this process are client errors, not retried', () => {
    const signer = classifyFailure('deactivateServiceAccount', sdkError(-1, 'cred-9 does not match allowed credentials: cred-1'), mutation('action-init', { kind: 'answered', status: 200 }), ctx);
    expect([signer.error.code, signer.retryable, signer.ambiguous]).toEqual(['DFNS_CLIENT', false, false]);
    expect(signer.error.message).toContain('does not match allowed credentials');
    const beforeSending = classifyFailure('listPersonalAccessTokens', new Error('Provided auth token is not scoped to org ID or-1'), [], ctx);
    expect(beforeSending.error.code).toBe('DFNS_CLIENT');
  });

  it('passes our own typed errors through', () => {
    const own = new DfnsValidationError('bad', { operation: 'proveSigning' });
    expect(classifyFailure('proveSigning', own, [], ctx).error).toBe(own);
  });
});
