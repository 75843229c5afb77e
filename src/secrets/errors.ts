import { RotatorError } from '../errors.js';

/** Another writer changed the secret since it was read. Nothing was written; re-read and retry. */
export class SecretConflictError extends RotatorError {
  constructor(name: string, expected: number | null, actual: number | null) {
    super('SECRET_CONFLICT', `secret "${name}" changed concurrently (expected revision ${expected ?? 'none'}, found ${actual ?? 'none'})`, { retryable: true });
  }
}

/** The store's encryption key does not open this data: wrong key, or the data was tampered with. Nothing was read. */
export class SecretKeyError extends RotatorError {
  /** `detail` says which of the two it is, when the adapter can tell (e.g. from a key id). */
  constructor(where: string, detail = 'the encryption key is wrong or the file was modified') {
    super('SECRET_KEY_MISMATCH', `cannot decrypt ${where}: ${detail}`);
  }
}

/** Stored data is unreadable (truncated, not our format). Never treated as an empty store. */
export class SecretCorruptError extends RotatorError {
  constructor(where: string, problem: string) {
    super('SECRET_CORRUPT', `secret store data at ${where} is corrupt: ${problem}`);
  }
}

/** A stage move was asked for that the record does not allow (e.g. promote without a pending version). Nothing was written. */
export class SecretStageError extends RotatorError {
  constructor(name: string, problem: string) {
    super('SECRET_STAGE', `secret "${name}": ${problem}`);
  }
}

/** A secret name that could escape its folder or that no adapter can hold. */
export class SecretNameError extends RotatorError {
  constructor(name: string) {
    super('SECRET_NAME', `invalid secret name ${JSON.stringify(name.slice(0, 80))}: use letters, digits and . _ - / (no "..", at most 200 characters)`);
  }
}

/** Another writer holds the secret's lock for longer than the wait bound. Nothing was written; safe to retry. */
export class SecretLockError extends RotatorError {
  constructor(where: string, problem: string) {
    super('SECRET_LOCKED', `secret store lock ${where}: ${problem}`, { retryable: true });
  }
}

/** A secret file or folder cannot be kept private (mode 0600 / 0700). Nothing was written. */
export class SecretPermissionError extends RotatorError {
  constructor(where: string, problem: string) {
    super('SECRET_PERMISSIONS', `${where}: ${problem}`);
  }
}

/**
 * Codes of adapter errors that mean the backend cannot take writes for now, after the adapter's
 * own retries (Vault unreachable or answering 5xx/429): an outage, like a full disk for the file
 * store, not a refusal of this write. Only errors marked retryable count. A backend adds its own.
 */
export const STORE_OUTAGE_CODES: ReadonlySet<string> = new Set(['VAULT_UNREACHABLE', 'VAULT_ERROR', 'VAULT_NOT_PUBLISHED']);

/** The code when `err` is a retryable store outage (see STORE_OUTAGE_CODES); null otherwise. */
export function storeOutageCode(err: unknown): string | null {
  if (!err || typeof err !== 'object') return null;
  const { code, retryable } = err as { code?: unknown; retryable?: unknown };
  return typeof code === 'string' && retryable === true && STORE_OUTAGE_CODES.has(code) ? code : null;
}
