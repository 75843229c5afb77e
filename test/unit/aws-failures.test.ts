import { describe, expect, it } from 'vitest';
import { isTransient, mapAwsFailure } from '../../src/secrets/aws/aws-failures.js';

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: status === undefined ? { attempts: 1 } : { httpStatusCode: status, attempts: 1 }, ...extra });

describe('AWS SDK errors become project errors in one place', () => {
  it.each([
    ['AccessDeniedException', 400, 'SECRET_STORE_ACCESS', /IAM policy allows secretsmanager:PutSecretValue/],
    ['UnrecognizedClientException', 400, 'SECRET_STORE_ACCESS', /Check the daemon's AWS credentials/],
    ['InvalidIdentityTokenException', 400, 'SECRET_STORE_ACCESS', /STS refused them.*AWS_ROLE_ARN/],
    ['AccessDenied', 403, 'SECRET_STORE_ACCESS', /STS refused them/],
    ['CredentialsProviderError', undefined, 'SECRET_STORE_ACCESS', /no AWS credentials found.*AWS_PROFILE/],
    ['KMSAccessDeniedException', 400, 'SECRET_STORE_ACCESS', /kms:GenerateDataKey/],
    ['ThrottlingException', 400, 'SECRET_STORE_UNAVAILABLE', /failed 4 times \(ThrottlingException/],
    ['InternalServiceError', 500, 'SECRET_STORE_UNAVAILABLE', /failed 4 times/],
    ['LimitExceededException', 400, 'SECRET_STORE_REFUSED', /was refused: LimitExceededException/],
  ])('%s (%s) is %s', (name, status, code, message) => {
    const err = mapAwsFailure(sdkError(name, status), 'PutSecretValue', 'dfns-rotator/a', 4) as Error & { code: string; retryable: boolean };
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(code === 'SECRET_STORE_UNAVAILABLE');
    expect(err.message).toMatch(message);
    expect(err.message).toContain('"dfns-rotator/a"');
  });

  it('retries throttling, 5xx and network errors, not refusals or programming errors', () => {
    expect(isTransient(sdkError('ThrottlingException', 400))).toBe(true);
    expect(isTransient(sdkError('ServiceUnavailable', 503))).toBe(true);
    expect(isTransient(sdkError('Error', undefined, { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(sdkError('ResourceNotFoundException', 400))).toBe(false);
    expect(isTransient(sdkError('AccessDeniedException', 400))).toBe(false);
    expect(isTransient(new TypeError('x is not a function'))).toBe(false);
  });
});
