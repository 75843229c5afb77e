import { RotatorError } from '../../errors.js';

/**
 * Vault's answers as app errors. Messages carry the API path, the status and Vault's own `errors`
 * strings (which never echo request bodies), never a token, secret id or value.
 */

/** Vault refused the token for this path. Nothing was written by this request; the fix is in Vault's policy. */
export class VaultPermissionError extends RotatorError {
  constructor(readonly path: string, readonly capability: string, namespace: string | null, hint = '') {
    super(
      'VAULT_PERMISSION_DENIED',
      `Vault denied ${capability.split('|').join(' or ')} on ${path}${namespace ? ` in namespace ${namespace}` : ''}: the token's policy needs ` +
        `path "${path}" { capabilities = [${capabilitiesFor(capability)}] } (see the README's Vault policy)${hint}`,
    );
  }
}

/** A Vault answer other than success, 403 or a CAS mismatch. Retryable for 5xx, 412 and 429 (already retried with backoff). */
export class VaultHttpError extends RotatorError {
  constructor(readonly status: number, method: string, path: string, errors: readonly string[]) {
    super('VAULT_ERROR', `Vault answered ${status} to ${method} ${path}${errors.length ? `: ${errors.join('; ').slice(0, 300)}` : ''}`, { retryable: status >= 500 || status === 429 || status === 412 });
  }
}

/** Vault could not be reached (connection refused, reset, timeout, TLS). Retryable; nothing is known to be written. */
export class VaultUnreachableError extends RotatorError {
  constructor(address: string, detail: string) {
    super('VAULT_UNREACHABLE', `cannot reach Vault at ${address}: ${detail}`, { retryable: true });
  }
}

/**
 * The record was written (the change is committed) but the consumer path could not be brought up
 * to date, so consumers still see the credential that was current before. Retryable: the next
 * read of the secret publishes it; a rotation must not go on (announce, retire) until it has.
 */
export class VaultPublishError extends RotatorError {
  constructor(name: string, revision: number, cause: unknown) {
    super('VAULT_NOT_PUBLISHED', `secret "${name}": revision ${revision} is written, but consumers still see the previous credential (${cause instanceof Error ? cause.message : String(cause)}); the next read publishes it`, { retryable: true, cause });
  }
}

/** Login failed (AppRole or Kubernetes): wrong role or secret, or the method is not enabled at that mount. */
export class VaultAuthError extends RotatorError {
  constructor(method: string, detail: string) {
    super('VAULT_AUTH', `Vault ${method} login failed: ${detail}`);
  }
}

function capabilitiesFor(capability: string): string {
  return capability
    .split('|')
    .map((c) => `"${c}"`)
    .join(', ');
}
