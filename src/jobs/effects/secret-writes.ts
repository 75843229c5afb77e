import type { Sleep } from '../../clock.js';
import { RotatorError } from '../../errors.js';
import { storeOutageCode } from '../../secrets/errors.js';
import type { SecretRecord, SecretStore, SecretVersion } from '../../secrets/types.js';
import { retriesInPlace } from '../core/job-outcome.js';

/**
 * Read-modify-write of one secret with the store's compare-and-set, retried a few times on a
 * concurrent write or a busy lock. Used right after Dfns shows a new token: losing that write
 * loses the token, so a short disk hiccup is worth waiting out before giving up.
 */
export async function updateSecret(
  store: Pick<SecretStore, 'get' | 'put'>,
  name: string,
  change: (record: SecretRecord | null) => SecretVersion[] | null,
  options: { sleep: Sleep; attempts?: number },
): Promise<SecretRecord | null> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const record = await store.get(name);
    const versions = change(record);
    if (versions === null) return record;
    try {
      const revision = await store.put(name, versions, record?.revision ?? null);
      return { name, revision, versions };
    } catch (err) {
      if (!retriesInPlace(err, unwritableCode(err)) || attempt >= attempts) throw err;
      await options.sleep(50 * 2 ** attempt);
    }
  }
}

/**
 * Errors that mean the store cannot take writes for now (full, read-only, permissions): not a
 * conflict, not corruption. The file store's errno codes, and a remote store's outage or refusal
 * after its own retries (AWS Secrets Manager throttling, 5xx or unreachable; IAM refusing the write).
 */
const UNWRITABLE_CODES = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT', 'SECRET_STORE_UNAVAILABLE', 'SECRET_STORE_ACCESS']);

/**
 * The errno code when `err` (or its cause) says the store cannot be written, or the adapter's
 * code when the store's backend is out for now (Vault unreachable or failing); null otherwise.
 */
export function unwritableCode(err: unknown): string | null {
  const outage = storeOutageCode(err);
  if (outage) return outage;
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && UNWRITABLE_CODES.has(code)) return code;
  }
  return null;
}

/** The store refused a write (ENOSPC, EROFS, EACCES…). Nothing was written; retry once it is writable again. */
export class StoreUnwritableError extends RotatorError {
  readonly errno: string;
  constructor(message: string, errno: string, cause: unknown) {
    super('STORE_UNWRITABLE', message, { cause, retryable: true });
    this.errno = errno;
  }
}
