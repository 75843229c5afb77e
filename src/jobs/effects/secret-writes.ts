import type { Sleep } from '../../clock.js';
import { RotatorError } from '../../errors.js';
import { storeUnwritableCode } from '../../secrets/errors.js';
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
      if (!retriesInPlace(err, storeUnwritableCode(err)) || attempt >= attempts) throw err;
      await options.sleep(50 * 2 ** attempt);
    }
  }
}

/** The store refused a write (ENOSPC, EROFS, EACCES…). Nothing was written; retry once it is writable again. */
export class StoreUnwritableError extends RotatorError {
  readonly errno: string;
  constructor(message: string, errno: string, cause: unknown) {
    super('STORE_UNWRITABLE', message, { cause, retryable: true });
    this.errno = errno;
  }
}
