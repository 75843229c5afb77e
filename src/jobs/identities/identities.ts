import type { Clock, Sleep } from '../../clock.js';
import type { Config, KeySource } from '../../config/types.js';
import { createDfnsClient, readTokenExpiry, readTokenIdentity, type RequestBudget, type RequestObserver, type RetryPolicy } from '../../dfns/index.js';
import type { DfnsPort } from '../../dfns/port.js';
import { RotatorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { versionWithStage } from '../../secrets/stages.js';
import type { ManagedSecret, SecretStore } from '../../secrets/types.js';
import type { HeldToken } from '../core/inventory.js';

/**
 * The Dfns identities the worker acts as, built from the config and the store:
 * - the operator (an org user logging in with a Key credential): lists SAs and its own PATs,
 *   creates replacements, retires old credentials;
 * - the watcher (a read-only SA token): lists SAs without a login;
 * - any stored credential acting as itself (its token and key): proves a new credential works,
 *   rekeys itself, and lists its owner's PATs.
 * Every port shares the process's one rate limiter: Dfns' limit is per org.
 */
export interface Identities {
  operator(): Promise<DfnsPort | null>;
  readonly operatorUsername: string | null;
  watcher(): Promise<DfnsPort | null>;
  /** A port acting as a stored credential. */
  asSecret(secret: ManagedSecret, label: string): DfnsPort;
  /** Tokens the worker holds outside the store (the watcher's), so they appear as its own in the inventory. */
  heldTokens(): Promise<HeldToken[]>;
}

/** A key or token the config points at could not be read (e.g. a store secret that is missing). */
export class IdentityError extends RotatorError {
  constructor(message: string) {
    super('IDENTITY', message);
  }
}

export interface IdentityDeps {
  config: Pick<Config, 'dfns' | 'operator' | 'watcher'>;
  store: Pick<SecretStore, 'get'>;
  limiter: RequestBudget;
  clock: Clock;
  sleep?: Sleep;
  logger: Logger;
  onRequest?: RequestObserver;
  /** Tests shorten backoff. */
  retry?: Partial<RetryPolicy>;
}

export function createIdentities(deps: IdentityDeps): Identities {
  const { config } = deps;
  const common = {
    baseUrl: config.dfns.baseUrl,
    orgId: config.dfns.orgId,
    limiter: deps.limiter,
    timeoutMs: config.dfns.timeoutMs,
    retry: { maxAttempts: config.dfns.maxAttempts, ...deps.retry },
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.onRequest ? { onRequest: deps.onRequest } : {}),
  };

  /** Reads a key/token the config references: its value, or the `current` version of a store secret. */
  async function resolve(source: KeySource, field: 'privateKeyPem' | 'accessToken', what: string): Promise<string> {
    if (source.kind === 'value') return source.value.reveal();
    const record = await deps.store.get(source.secretName);
    const current = record && versionWithStage(record.versions, 'current');
    const value = current?.value[field];
    if (!value) throw new IdentityError(`${what}: store secret "${source.secretName}" has no current ${field === 'privateKeyPem' ? 'private key' : 'access token'}`);
    return value;
  }

  let operator: Promise<DfnsPort | null> | undefined;
  let watcher: Promise<{ port: DfnsPort; token: string } | null> | undefined;

  const watcherEntry = () =>
    (watcher ??= (async () => {
      if (!config.watcher) return null;
      const token = await resolve(config.watcher.token, 'accessToken', 'watcher.token');
      return { token, port: createDfnsClient({ ...common, identity: { kind: 'token', token, label: 'watcher' } }) };
    })().catch((err: unknown) => {
      watcher = undefined; // a store that was briefly unreadable must not poison every later scan
      throw err;
    }));

  return {
    operatorUsername: config.operator?.username ?? null,
    operator() {
      return (operator ??= (async () => {
        const op = config.operator;
        if (!op) return null;
        const privateKeyPem = await resolve(op.privateKey, 'privateKeyPem', 'operator.privateKey');
        return createDfnsClient({ ...common, identity: { kind: 'operator', username: op.username, credId: op.credId, privateKeyPem } });
      })().catch((err: unknown) => {
        operator = undefined;
        throw err;
      }));
    },
    async watcher() {
      return (await watcherEntry())?.port ?? null;
    },
    asSecret(secret, label) {
      if (!secret.accessToken) throw new IdentityError(`${label}: the stored credential has no access token`);
      return createDfnsClient({
        ...common,
        identity: { kind: 'token', token: secret.accessToken, signer: { credId: secret.credId, privateKeyPem: secret.privateKeyPem }, label, holds: secret.kind },
      });
    },
    async heldTokens() {
      const entry = await watcherEntry();
      if (!entry) return [];
      const claims = readTokenIdentity(entry.token);
      // Only when the token names its service account can the inventory flag it (claim names are UNCONFIRMED).
      if (!claims.userId) return [];
      const expiry = readTokenExpiry(entry.token);
      return [
        {
          credentialId: claims.userId,
          expiresAt: expiry.kind === 'expires' ? expiry.expiresAt : null,
          ...(expiry.kind === 'malformed' ? { problem: `the watcher token is malformed: ${expiry.reason}` } : {}),
          label: 'watcher token',
        },
      ];
    },
  };
}
