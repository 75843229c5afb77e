/**
 * Where a secret lives in Vault. For a secret NAME under mount M with prefix P:
 *
 * - `M/data/P NAME`: what consumers read. Each KV version is one credential that was current, as
 *   the credential JSON (docs/credential.md). The latest version is the current credential, the
 *   one before it the previous one. A pending credential is never written here.
 * - `M/data/P .rotator/NAME`: dfns-rotator's record (every version with its stage labels,
 *   including the pending one). Its KV version is the record's revision, so a record write is one
 *   check-and-set request. Names start with a letter or digit, so `.rotator/` can never collide
 *   with a secret's own path. Consumers' policies deny it (README).
 */
export const RECORD_FOLDER = '.rotator/';

export class VaultLayout {
  constructor(readonly mount: string, readonly prefix: string) {}

  consumerPath(name: string): string {
    return `${this.prefix}${name}`;
  }

  recordPath(name: string): string {
    return `${this.prefix}${RECORD_FOLDER}${name}`;
  }

  recordFolder(): string {
    return `${this.prefix}${RECORD_FOLDER}`;
  }

  data(path: string): string {
    return `${this.mount}/data/${path}`;
  }

  metadata(path: string): string {
    return `${this.mount}/metadata/${path}`;
  }
}
