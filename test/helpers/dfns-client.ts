import { inspect } from 'node:util';
import type { Sleep } from '../../src/clock.js';
import { createDfnsClient, type DfnsClientOptions } from '../../src/dfns/client.js';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';
import type { DfnsPort, KeyAlgorithm } from '../../src/dfns/port.js';
import { RateLimiter } from '../../src/dfns/rate-limiter.js';
import type { RetryPolicy } from '../../src/dfns/retry.js';
import { startSimulator, type RunningSimulator, type SeedFile, type SimKnobs } from '../../src/dfns/simulator/index.js';
import type { RequestEvent } from '../../src/dfns/transport.js';

/**
 * A simulator plus what the project's Dfns client needs around it: one shared limiter, and a
 * fake sleep that moves the simulator's clock, so retries, backoff and rate-limit waits take no
 * real time while token expiry, challenge TTLs and rate windows still see time pass.
 */
export const OPERATOR = 'operator@acme.test';
export const OPERATOR_CRED_ID = 'operator-key-1';
export const READER_PERMISSION_ID = 'pm-client-reader';

export interface Harness {
  sim: RunningSimulator;
  operatorKey: KeyPairPem;
  limiter: RateLimiter;
  sleep: Sleep;
  /** Every fake sleep, in ms (backoff and limiter waits). */
  sleeps: number[];
  /** Every request the client made, from the `onRequest` observer. */
  events: RequestEvent[];
  operator(overrides?: Partial<DfnsClientOptions>): DfnsPort;
  tokenPort(token: string, signer?: { credId: string; privateKeyPem: string }, overrides?: Partial<DfnsClientOptions>): DfnsPort;
}

export interface HarnessOptions {
  algorithm?: KeyAlgorithm;
  knobs?: Partial<SimKnobs>;
  requestsPerMinute?: number;
  retry?: Partial<RetryPolicy>;
  seed?: (operatorKey: KeyPairPem) => Partial<SeedFile>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const operatorKey = await generateKeyPair(options.algorithm ?? 'ed25519');
  const extra = options.seed?.(operatorKey) ?? {};
  const sim = await startSimulator({
    seed: {
      permissions: [
        {
          name: 'Admin',
          operations: [
            'Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Update',
            'Auth:ServiceAccounts:Activate', 'Auth:ServiceAccounts:Deactivate', 'Auth:ServiceAccounts:Delete',
            'Auth:Pats:Create', 'Permissions:Assign',
          ],
        },
        { id: READER_PERMISSION_ID, name: 'Reader', operations: ['Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Deactivate'] },
        ...(extra.permissions ?? []),
      ],
      users: [
        { username: OPERATOR, permissions: ['Admin'], credentials: [{ credId: OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] },
        ...(extra.users ?? []),
      ],
      ...(extra.serviceAccounts ? { serviceAccounts: extra.serviceAccounts } : {}),
      ...(extra.pats ? { pats: extra.pats } : {}),
    },
    ...(options.knobs ? { knobs: options.knobs } : {}),
  });
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    sim.clock.advance(ms);
  };
  const limiter = new RateLimiter({ requestsPerMinute: options.requestsPerMinute ?? 900, clock: sim.clock, sleep });
  const events: RequestEvent[] = [];
  const base = (): Omit<DfnsClientOptions, 'identity'> => ({
    baseUrl: sim.url,
    orgId: sim.orgId,
    limiter,
    clock: sim.clock,
    sleep,
    random: () => 0.5,
    onRequest: (e) => events.push(e),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return {
    sim,
    operatorKey,
    limiter,
    sleep,
    sleeps,
    events,
    operator: (overrides = {}) =>
      createDfnsClient({
        ...base(),
        identity: { kind: 'operator', username: OPERATOR, credId: OPERATOR_CRED_ID, privateKeyPem: operatorKey.privateKeyPem },
        ...overrides,
      }),
    tokenPort: (token, signer, overrides = {}) =>
      createDfnsClient({ ...base(), identity: { kind: 'token', token, ...(signer ? { signer } : {}) }, ...overrides }),
  };
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

/** Every text an error can show: message, inspect() with its cause chain, JSON. */
export function errorTexts(err: unknown): string {
  const parts: string[] = [inspect(err, { depth: 6 })];
  try {
    parts.push(JSON.stringify(err));
  } catch {
    // circular: inspect covered it
  }
  let cause: unknown = err;
  for (let i = 0; i < 6 && cause instanceof Error; i++) {
    parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join('\n');
}

/** Asserts no token, JWT-shaped string or key material appears anywhere in an error. */
export function expectNoSecrets(err: unknown, secrets: readonly string[]): void {
  const text = errorTexts(err);
  if (JWT_LIKE.test(text)) throw new Error(`error text contains a JWT-shaped string: ${text.slice(0, 200)}…`);
  if (text.includes('PRIVATE KEY')) throw new Error('error text contains a private key header');
  for (const secret of secrets) {
    // Check the secret and, for PEMs, each line of its body.
    const pieces = secret.includes('-----') ? secret.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')) : [secret];
    for (const piece of pieces) if (text.includes(piece)) throw new Error('error text contains a secret');
  }
}

/** The most events that started in any half-open window [t, t + windowMs). */
export function maxInAnyWindow(starts: readonly number[], windowMs = 60_000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let max = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while ((sorted[j] as number) <= (sorted[i] as number) - windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}
