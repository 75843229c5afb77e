/**
 * The KV version 2 secrets engine of the local Vault server, from Vault's published API reference
 * (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2): numbered versions per path,
 * check-and-set on `options.cas`, soft delete and destroy of versions, `custom_metadata`,
 * `max_versions`, and LIST over folders. Pure state: the HTTP edge is server.ts.
 */

export interface KvVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

export interface KvSecret {
  versions: Map<number, KvVersion>;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  createdTime: string;
  updatedTime: string;
}

/** A KV answer that is not a success: the HTTP status and Vault's `errors` strings. */
export class KvError extends Error {
  constructor(readonly status: number, readonly errors: string[]) {
    super(errors.join('; '));
  }
}

/** Vault's own wording, which clients (and our adapter) match on. */
export const CAS_MISMATCH = 'check-and-set parameter did not match the current version';

export class KvEngine {
  readonly #secrets = new Map<string, KvSecret>();
  readonly #now: () => number;
  /** Mount-wide `max_versions` (Vault's default is 10 when unset). */
  readonly #mountMaxVersions: number;

  constructor(now: () => number, mountMaxVersions = 10) {
    this.#now = now;
    this.#mountMaxVersions = mountMaxVersions;
  }

  #time(): string {
    return new Date(this.#now()).toISOString();
  }

  read(path: string, version?: number): { data: Record<string, unknown> | null; metadata: ReturnType<KvEngine['versionMetadata']> } {
    const secret = this.#secrets.get(path);
    if (!secret) throw new KvError(404, []);
    const n = version === undefined || version === 0 ? secret.currentVersion : version;
    const v = secret.versions.get(n);
    if (!v) throw new KvError(404, []);
    const metadata = this.versionMetadata(secret, n, v);
    // A deleted or destroyed version answers 404 with its metadata and no data, as Vault does.
    if (v.deletionTime !== '' || v.destroyed) throw Object.assign(new KvError(404, []), { body: { data: { data: null, metadata } } });
    return { data: structuredClone(v.data), metadata };
  }

  versionMetadata(secret: KvSecret, n: number, v: KvVersion) {
    return { created_time: v.createdTime, custom_metadata: secret.customMetadata, deletion_time: v.deletionTime, destroyed: v.destroyed, version: n };
  }

  write(path: string, data: unknown, options: { cas?: unknown } | undefined) {
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new KvError(400, ['no data provided']);
    const secret = this.#secrets.get(path);
    const cas = options?.cas;
    if (cas !== undefined && (typeof cas !== 'number' || !Number.isInteger(cas) || cas < 0)) throw new KvError(400, ['check-and-set parameter must be a non-negative integer']);
    if (secret?.casRequired && cas === undefined) throw new KvError(400, ['check-and-set parameter required for this call']);
    if (cas !== undefined && cas !== (secret?.currentVersion ?? 0)) throw new KvError(400, [CAS_MISMATCH]);
    const now = this.#time();
    const s = secret ?? this.#create(path, now);
    const n = s.currentVersion + 1;
    s.versions.set(n, { data: structuredClone(data as Record<string, unknown>), createdTime: now, deletionTime: '', destroyed: false });
    s.currentVersion = n;
    s.updatedTime = now;
    this.#prune(s);
    return this.versionMetadata(s, n, s.versions.get(n)!);
  }

  #create(path: string, now: string): KvSecret {
    const s: KvSecret = { versions: new Map(), currentVersion: 0, oldestVersion: 0, maxVersions: 0, casRequired: false, customMetadata: null, createdTime: now, updatedTime: now };
    this.#secrets.set(path, s);
    return s;
  }

  #prune(s: KvSecret): void {
    const max = s.maxVersions || this.#mountMaxVersions;
    const ids = [...s.versions.keys()].sort((a, b) => a - b);
    while (ids.length > max) s.versions.delete(ids.shift()!);
    s.oldestVersion = ids[0] ?? 0;
  }

  readMetadata(path: string) {
    const s = this.#secrets.get(path);
    if (!s) throw new KvError(404, []);
    const versions: Record<string, unknown> = {};
    for (const [n, v] of s.versions) versions[String(n)] = { created_time: v.createdTime, deletion_time: v.deletionTime, destroyed: v.destroyed };
    return {
      cas_required: s.casRequired, created_time: s.createdTime, current_version: s.currentVersion, custom_metadata: s.customMetadata,
      delete_version_after: '0s', max_versions: s.maxVersions, oldest_version: s.oldestVersion, updated_time: s.updatedTime, versions,
    };
  }

  writeMetadata(path: string, body: Record<string, unknown>): void {
    const s = this.#secrets.get(path) ?? this.#create(path, this.#time());
    if (body.max_versions !== undefined) {
      if (typeof body.max_versions !== 'number' || !Number.isInteger(body.max_versions) || body.max_versions < 0) throw new KvError(400, ['max_versions must be a non-negative integer']);
      s.maxVersions = body.max_versions;
      this.#prune(s);
    }
    if (body.cas_required !== undefined) s.casRequired = body.cas_required === true;
    if (body.custom_metadata !== undefined) {
      const cm = body.custom_metadata;
      if (cm === null || typeof cm !== 'object' || Array.isArray(cm)) throw new KvError(400, ['custom_metadata must be a map of strings']);
      const entries = Object.entries(cm as Record<string, unknown>);
      // Vault's documented limits: 64 keys, keys up to 128 bytes, values up to 512 bytes.
      if (entries.length > 64) throw new KvError(400, ['custom_metadata: too many keys (at most 64)']);
      for (const [k, v] of entries) {
        if (typeof v !== 'string') throw new KvError(400, [`custom_metadata: value of ${k} must be a string`]);
        if (Buffer.byteLength(k) > 128 || Buffer.byteLength(v) > 512) throw new KvError(400, [`custom_metadata: key ${k} or its value is too long`]);
      }
      s.customMetadata = Object.fromEntries(entries) as Record<string, string>;
    }
    s.updatedTime = this.#time();
  }

  deleteMetadata(path: string): void {
    this.#secrets.delete(path);
  }

  /** Soft delete: the latest version with no body, or the versions listed. */
  deleteVersions(path: string, versions?: number[]): void {
    const s = this.#secrets.get(path);
    if (!s) return;
    const now = this.#time();
    for (const n of versions ?? [s.currentVersion]) {
      const v = s.versions.get(n);
      if (v && v.deletionTime === '') v.deletionTime = now;
    }
  }

  destroyVersions(path: string, versions: number[]): void {
    const s = this.#secrets.get(path);
    if (!s) return;
    for (const n of versions) {
      const v = s.versions.get(n);
      if (v) {
        v.destroyed = true;
        v.data = null;
      }
    }
  }

  /** Keys directly under `folder` (`''` or ending in `/`): names and `sub/` folders, sorted; null when none. */
  list(folder: string): string[] | null {
    const keys = new Set<string>();
    for (const path of this.#secrets.keys()) {
      if (!path.startsWith(folder)) continue;
      const rest = path.slice(folder.length);
      if (rest === '') continue;
      const slash = rest.indexOf('/');
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return keys.size === 0 ? null : [...keys].sort();
  }
}
