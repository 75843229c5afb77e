import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { DfnsApiClient, type CredentialSigner, type KeyAssertion, type UserActionChallenge } from '@dfns/sdk';
import { loadStoreConfig, type StoreBlock } from '../config/load-store.js';
import { KeySigner } from '../dfns/key-signer.js';
import { RotatorError } from '../errors.js';
import { openConfiguredStore } from '../secrets/index.js';
import { versionWithStage } from '../secrets/stages.js';
import type { ManagedSecret, SecretStore, SecretVersion } from '../secrets/types.js';
import { isRetryAfter401, isUnauthorized } from './retry-rule.js';

/** What a service may know about the credential it uses: ids and times, never the token or key. */
export interface CredentialInfo {
  secret: string;
  /** The store version in use; it changes with each rotation. */
  versionId: number;
  kind: ManagedSecret['kind'];
  /** Service account user id (us-…) or PAT token id (to-…). */
  credentialId: string | null;
  credId: string;
  name: string;
  /** ISO-8601 expiry of the token, when known. */
  expiresAt: string | null;
}

export interface RotatedEvent {
  previous: CredentialInfo;
  current: CredentialInfo;
  /** `interval`, `401` or `refresh` (a call of `refresh()`). */
  trigger: RefreshTrigger;
}

export type RefreshTrigger = 'interval' | '401' | 'refresh';

export interface RotatingDfnsClientOptions {
  /** Name of the managed secret, e.g. `payments/api`. */
  secret: string;
  /**
   * The store, exactly as the daemon's `store:` config block (`{ kind: 'file', dir, key: { file } }`,
   * `{ kind: 'vault', vault: {…} }`, `{ kind: 'aws-secrets-manager', aws: {…} }`), or an open
   * `SecretStore`. Omitted: the daemon's environment variables (DFNS_ROTATOR_STORE, VAULT_ADDR…).
   */
  store?: StoreBlock | SecretStore;
  /** Re-read the store this often, ms. Default 60 000; 0: only after a 401 and on `refresh()`. */
  refreshIntervalMs?: number;
  /** Default `process.env` (references such as `{ env: NAME }` and the store variables). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths in `store` are resolved against this. Default `process.cwd()`. */
  cwd?: string;
}

interface Held {
  info: CredentialInfo;
  client: DfnsApiClient;
}

/** The client helper could not get a usable credential (the store, the secret, its current version). */
export class ConsumerCredentialError extends RotatorError {
  constructor(message: string, cause?: unknown) {
    super('CONSUMER_CREDENTIAL', message, cause === undefined ? undefined : { cause });
  }
}

export const DEFAULT_REFRESH_INTERVAL_MS = 60_000;

/** Per call: whether the signer was asked to sign, i.e. whether a user action may have been spent. */
const callState = new AsyncLocalStorage<{ signed: boolean }>();

/**
 * A `DfnsApiClient` that follows rotations. `client` has the official client's shape
 * (`client.wallets.listWallets()`, `client.auth.…`) and sends each call to the client built from
 * the current credential; `current()` gives that client itself. The store is re-read on an
 * interval and at once after a 401: when its current version changed, a new client is built and
 * swapped in (one assignment: a call runs wholly on the old or wholly on the new one), and the
 * 401'd call is sent again once, unless it was a signed mutation whose user action may have been
 * used (then the 401 is the caller's to handle: retrying could act twice).
 */
export class RotatingDfnsClient extends EventEmitter<{ rotated: [RotatedEvent]; error: [Error] }> {
  readonly secret: string;
  readonly client: DfnsApiClient;
  readonly #store: SecretStore;
  readonly #ownsStore: boolean;
  #held: Held;
  #refreshing: Promise<boolean> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /** Use `rotatingDfnsClient()`: it reads the first credential before returning. */
  constructor(secret: string, store: SecretStore, ownsStore: boolean, first: SecretVersion, refreshIntervalMs: number) {
    super();
    this.secret = secret;
    this.#store = store;
    this.#ownsStore = ownsStore;
    this.#held = build(secret, first);
    this.client = this.#proxy();
    if (refreshIntervalMs > 0) {
      this.#timer = setInterval(() => void this.#refresh('interval').catch(() => undefined), refreshIntervalMs);
      this.#timer.unref();
    }
  }

  /** The official client for the current credential. Keep calls short-lived: it is replaced on rotation. */
  current(): DfnsApiClient {
    return this.#held.client;
  }

  /** The credential in use (no secrets). */
  credential(): CredentialInfo {
    return { ...this.#held.info };
  }

  /** Re-reads the store now; true when the credential changed. Failures reject (and are emitted as `error`). */
  refresh(): Promise<boolean> {
    return this.#refresh('refresh');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#refreshing?.catch(() => undefined);
    if (this.#ownsStore) await this.#store.close?.();
  }

  #refresh(trigger: RefreshTrigger): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    // Concurrent 401s and ticks share one read.
    this.#refreshing ??= this.#read(trigger).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #read(trigger: RefreshTrigger): Promise<boolean> {
    let version: SecretVersion;
    try {
      version = await readCurrent(this.#store, this.secret);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.listenerCount('error') > 0) this.emit('error', error);
      throw error;
    }
    if (version.versionId === this.#held.info.versionId) return false;
    const previous = this.#held.info;
    this.#held = build(this.secret, version);
    this.emit('rotated', { previous, current: { ...this.#held.info }, trigger });
    return true;
  }

  async #invoke(group: PropertyKey, method: PropertyKey, args: unknown[]): Promise<unknown> {
    const attempt = async (client: DfnsApiClient) => {
      const state = { signed: false };
      try {
        return { ok: true as const, value: await callState.run(state, () => callMethod(client, group, method, args)) };
      } catch (error) {
        return { ok: false as const, error, signed: state.signed };
      }
    };
    const first = await attempt(this.#held.client);
    if (first.ok) return first.value;
    if (!isUnauthorized(first.error)) throw first.error;
    const changed = await this.#refresh('401').catch(() => false);
    if (!changed || !isRetryAfter401(first.error, first.signed)) throw first.error;
    const second = await attempt(this.#held.client);
    if (second.ok) return second.value;
    throw second.error;
  }

  /** `client.<group>.<method>(…)` → `#invoke`; other properties read through to the current client. */
  #proxy(): DfnsApiClient {
    const groups = new Map<PropertyKey, object>();
    const groupProxy = (group: PropertyKey) => {
      let proxy = groups.get(group);
      if (!proxy) {
        proxy = new Proxy({}, {
          get: (_t, method) => {
            const value = Reflect.get(Reflect.get(this.#held.client, group) as object, method);
            return typeof value === 'function' ? (...args: unknown[]) => this.#invoke(group, method, args) : value;
          },
        });
        groups.set(group, proxy);
      }
      return proxy;
    };
    return new Proxy({} as DfnsApiClient, {
      get: (_t, group) => {
        const value = Reflect.get(this.#held.client, group);
        return value && typeof value === 'object' ? groupProxy(group) : value;
      },
    });
  }
}

/**
 * Opens the store, reads the secret's current version and returns the rotating client. Throws
 * `ConfigError` for bad store settings and `ConsumerCredentialError` when there is no usable
 * current version.
 */
export async function rotatingDfnsClient(options: RotatingDfnsClientOptions): Promise<RotatingDfnsClient> {
  if (!options.secret) throw new ConsumerCredentialError('rotatingDfnsClient: `secret` (the managed secret name, e.g. payments/api) is required');
  const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  if (!Number.isFinite(interval) || interval < 0) throw new ConsumerCredentialError(`rotatingDfnsClient: refreshIntervalMs must be 0 or a positive number of ms, got ${String(interval)}`);
  const given = options.store;
  const isStore = given !== undefined && typeof (given as SecretStore).get === 'function';
  const store = isStore
    ? (given as SecretStore)
    : openConfiguredStore(
        loadStoreConfig({ store: given, env: options.env ?? process.env, readFile: (p) => readFileSync(p, 'utf8'), cwd: options.cwd ?? process.cwd(), source: 'rotatingDfnsClient options' }),
        {},
        { createDir: false },
      );
  try {
    const first = await readCurrent(store, options.secret);
    return new RotatingDfnsClient(options.secret, store, !isStore, first, interval);
  } catch (err) {
    if (!isStore) await store.close?.();
    throw err;
  }
}

async function readCurrent(store: SecretStore, secret: string): Promise<SecretVersion> {
  let record;
  try {
    record = await store.get(secret);
  } catch (err) {
    throw new ConsumerCredentialError(`cannot read secret "${secret}" from ${store.description}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const current = record && versionWithStage(record.versions, 'current');
  if (!current) throw new ConsumerCredentialError(`secret "${secret}" has no current version in ${store.description}`);
  if (!current.value.accessToken) throw new ConsumerCredentialError(`secret "${secret}" version ${current.versionId} has no access token`);
  return current;
}

function build(secret: string, version: SecretVersion): Held {
  const v = version.value;
  const signer = new TrackingSigner(new KeySigner({ credId: v.credId, privateKey: v.privateKeyPem }));
  const client = new DfnsApiClient({ baseUrl: v.baseUrl, orgId: v.orgId, authToken: v.accessToken!, signer });
  return {
    client,
    info: { secret, versionId: version.versionId, kind: v.kind, credentialId: v.credentialId, credId: v.credId, name: v.name, expiresAt: v.expiresAt },
  };
}

/** Marks the running call as signed before a user action exists, so a later 401 is never retried blindly. */
class TrackingSigner implements CredentialSigner<KeyAssertion> {
  readonly #inner: KeySigner;
  constructor(inner: KeySigner) {
    this.#inner = inner;
  }
  sign(challenge: UserActionChallenge): Promise<KeyAssertion> {
    const state = callState.getStore();
    if (state) state.signed = true;
    return this.#inner.sign(challenge);
  }
}

function callMethod(client: DfnsApiClient, group: PropertyKey, method: PropertyKey, args: unknown[]): Promise<unknown> {
  const target = Reflect.get(client, group) as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>;
  return Reflect.apply(target[method as string]!, target, args);
}
