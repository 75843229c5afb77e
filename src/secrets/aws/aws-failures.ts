import { RotatorError } from '../../errors.js';

/**
 * The one place AWS SDK errors become this project's errors. Messages name the action, the secret
 * and the fix; SDK messages carry no secret values (AWS keeps values out of error texts).
 */

/** AWS refused the daemon's identity or permissions: fix IAM or credentials; retrying will not help. */
export class AwsStoreAccessError extends RotatorError {
  constructor(message: string, cause: unknown) {
    super('SECRET_STORE_ACCESS', message, { cause });
  }
}

/** Secrets Manager throttled or failed after every retry. Nothing is known to have been written; safe to retry later. */
export class AwsStoreUnavailableError extends RotatorError {
  constructor(message: string, cause: unknown) {
    super('SECRET_STORE_UNAVAILABLE', message, { cause, retryable: true });
  }
}

export interface SdkErrorLike {
  name?: string;
  message?: string;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException']);
/** Refusals of the credential chain's own calls (STS AssumeRoleWithWebIdentity for IRSA, AssumeRole for a profile). */
// The SDK names modelled STS errors `<Code>Exception`, unmodelled ones by their bare code
// (STS' AccessDenied; Secrets Manager's own refusal is AccessDeniedException, an IAM matter).
const CREDENTIALS = new Set(['InvalidIdentityToken', 'InvalidIdentityTokenException', 'IDPRejectedClaim', 'IDPRejectedClaimException', 'AccessDenied', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'RegionDisabledException', 'MalformedPolicyDocumentException']);
const ACCESS = new Set([...CREDENTIALS, 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'IncompleteSignatureException', 'MissingAuthenticationTokenException', 'CredentialsProviderError', 'KMSAccessDeniedException', 'KMSInvalidStateException', 'KMSDisabledException']);

export const errorName = (err: unknown): string => (err as SdkErrorLike | null)?.name ?? '';

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * Worth another try after a pause: throttling, a 5xx, or the network (the SDK attached its
 * metadata but there was no HTTP answer). A programming error (no SDK metadata) is not.
 */
export function isTransient(err: unknown): boolean {
  const e = err as SdkErrorLike & { code?: string };
  if (THROTTLING.has(errorName(err)) || e?.$retryable) return true;
  if (ACCESS.has(errorName(err)) || err instanceof RotatorError) return false;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  return e?.$metadata !== undefined || NETWORK.has(e?.code ?? '') || errorName(err) === 'TimeoutError';
}

export function mapAwsFailure(err: unknown, action: string, secretId: string, attempts: number): Error {
  const name = errorName(err);
  const detail = (err as SdkErrorLike)?.message ?? String(err);
  if (name === 'CredentialsProviderError') {
    return new AwsStoreAccessError(`AWS Secrets Manager ${action} on "${secretId}": no AWS credentials found (${detail}). Give the daemon credentials the AWS SDK's default chain finds: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) or an instance profile`, err);
  }
  if (CREDENTIALS.has(name)) {
    return new AwsStoreAccessError(`AWS Secrets Manager ${action} on "${secretId}": the AWS SDK could not get credentials: STS refused them (${name}: ${detail}). Check the role (AWS_ROLE_ARN) trusts this identity (IRSA: the cluster's OIDC provider and the service account) and that the token file (AWS_WEB_IDENTITY_TOKEN_FILE) is current`, err);
  }
  if (name.startsWith('KMS')) {
    return new AwsStoreAccessError(`AWS Secrets Manager ${action} on "${secretId}": ${name}: ${detail}. The daemon needs kms:GenerateDataKey and kms:Decrypt on store.aws.kmsKeyId (see the README's IAM policy)`, err);
  }
  if (ACCESS.has(name)) {
    return new AwsStoreAccessError(`AWS Secrets Manager refused ${action} on "${secretId}": ${name}: ${detail}. Check the daemon's AWS credentials and that its IAM policy allows secretsmanager:${action} on this secret (README: "AWS Secrets Manager", minimal IAM policy)`, err);
  }
  if (isTransient(err)) {
    const code = (err as { code?: unknown })?.code;
    const what = typeof code === 'string' && (!name || name === 'Error') ? `network error ${code}` : name || 'network error';
    return new AwsStoreUnavailableError(`AWS Secrets Manager ${action} on "${secretId}" failed ${attempts} times (${what}: ${detail}); giving up for now, the job retries later`, err);
  }
  return new RotatorError('SECRET_STORE_REFUSED', `AWS Secrets Manager ${action} on "${secretId}" was refused: ${name}: ${detail}`, { cause: err });
}
