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
 * The one list of what says a store cannot take writes for now — an outage or a refusal of the
 * store as a whole, not a conflict, not corruption, not a refusal of this write — after the
 * adapter's own retries:
 * - the file store's errno codes (full, read-only, permissions), found anywhere in the cause chain;
 * - AWS Secrets Manager throttling, 5xx or unreachable, and IAM refusing the write;
 * - Vault unreachable or answering 5xx/429, or a write not yet published: these only when the
 *   adapter marked the error retryable (a Vault error that is not is a refusal of this write).
 * A new backend adds its codes here.
 */
export const STORE_UNWRITABLE_CODES: ReadonlyMap<string, 'always' | 'when-retryable'> = new Map([
  ['ENOSPC', 'always'],
  ['EROFS', 'always'],
  ['EACCES', 'always'],
  ['EPERM', 'always'],
  ['EDQUOT', 'always'],
  ['SECRET_STORE_UNAVAILABLE', 'always'],
  ['SECRET_STORE_ACCESS', 'always'],
  ['VAULT_UNREACHABLE', 'when-retryable'],
  ['VAULT_ERROR', 'when-retryable'],
  ['VAULT_NOT_PUBLISHED', 'when-retryable'],
]);

/** The code when `err` (or a cause, four deep) says the store cannot be written now (STORE_UNWRITABLE_CODES); null otherwise. */
export function storeUnwritableCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, retryable } = e as { code?: unknown; retryable?: unknown };
    if (typeof code !== 'string') continue;
    const rule = STORE_UNWRITABLE_CODES.get(code);
    if (rule === 'always' || (rule === 'when-retryable' && retryable === true)) return code;
  }
  return null;
}
