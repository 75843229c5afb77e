import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueEvents, type Job, type Queue } from 'bullmq';
import type { Sleep } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';
import type { KeyAlgorithm } from '../../src/dfns/port.js';
import { startSimulator, type RunningSimulator, type SeedFile, type SimKnobs } from '../../src/dfns/simulator/index.js';
import { adoptCredential } from '../../src/jobs/identities/adopt.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/jobs/runtime.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startStore, type RunningStore, type StoreFixtureKind } from './store-fixtures.js';
import { makeTempDir } from './temp-dir.js';
import { redisUrl, testPrefix } from './redis.js';

/**
 * A whole daemon's worth of real parts for one test: the simulator (whose clock is the clock of
 * everything), a secret store (the encrypted file store in a temp folder by default, or another
 * backend of test/helpers/store-fixtures.ts with its local server), a config built by `loadConfig`
 * from the environment, and a runtime on the test run's Redis under a private prefix.
 */
export const OPERATOR = 'rotator@acme.test';
export const OPERATOR_CRED_ID = 'rotator-key-1';
export const ADMIN_OPERATIONS = [
  'Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Update', 'Auth:ServiceAccounts:Activate',
  'Auth:ServiceAccounts:Deactivate', 'Auth:ServiceAccounts:Delete', 'Auth:Pats:Create', 'Permissions:Assign',
];

export interface HeldKey {
  name: string;
  credId: string;
  key: KeyPairPem;
}

export interface Fixture {
  sim: RunningSimulator;
  dir: string;
  operatorKey: KeyPairPem;
  /** Keys of seeded credentials the test holds (by seed name). */
  keys: Map<string, HeldKey>;
  env: Record<string, string>;
  /** The secret store backend and its local server. */
  store: RunningStore;
  config: Config;
  logs: string[];
  logger: Logger;
  /** Moves the simulator clock instead of waiting (retries, limiter waits). */
  sleep: Sleep;
  runtime(overrides?: Partial<RuntimeOptions>): Runtime;
  /** The fixture's config with some environment variables changed (e.g. another operator, another Redis prefix). */
  configWith(env: Record<string, string>): Config;
  /** Writes a file into the fixture's folder (mode 0600) and returns its path. */
  writeFile(name: string, content: string): string;
  /** Stores a seeded credential's token and key as a managed secret. */
  adopt(seedName: string, secretName: string, kind?: 'service-account' | 'pat'): Promise<void>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Seed items; `held: true` makes the fixture generate and keep their key. */
  serviceAccounts?: (NonNullable<SeedFile['serviceAccounts']>[number] & { held?: boolean })[];
  pats?: (NonNullable<SeedFile['pats']>[number] & { held?: boolean })[];
  knobs?: Partial<SimKnobs>;
  env?: Record<string, string>;
  algorithm?: KeyAlgorithm;
  extraSeed?: Partial<SeedFile>;
  /** Operations the operator has beyond ADMIN_OPERATIONS (e.g. `Auth:Logs:Read`). */
  operatorExtraOperations?: string[];
  /** Secret store backend, default `file`. */
  store?: StoreFixtureKind;
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const tmp = await makeTempDir();
  const operatorKey = await generateKeyPair('ed25519');
  const keys = new Map<string, HeldKey>();
  const hold = async <T extends { name: string; held?: boolean; publicKeyPem?: string; credId?: string }>(item: T) => {
    const { held, ...rest } = item;
    if (!held) return rest;
    const key = await generateKeyPair(options.algorithm ?? 'ecdsa-p256');
    const credId = rest.credId ?? `key-${rest.name}`;
    keys.set(rest.name, { name: rest.name, credId, key });
    return { ...rest, publicKeyPem: key.publicKeyPem, credId };
  };
  const serviceAccounts = await Promise.all((options.serviceAccounts ?? []).map(hold));
  const pats = await Promise.all((options.pats ?? []).map(hold));
  const sim = await startSimulator({
    seed: {
      permissions: [
        { id: 'pm-admin', name: 'Admin', operations: ADMIN_OPERATIONS },
        { id: 'pm-reader', name: 'Reader', operations: ['Auth:ServiceAccounts:Read'] },
        ...(options.operatorExtraOperations ? [{ id: 'pm-operator-extra', name: 'OperatorExtra', operations: options.operatorExtraOperations }] : []),
        ...(options.extraSeed?.permissions ?? []),
      ],
      users: [{ username: OPERATOR, permissions: options.operatorExtraOperations ? ['Admin', 'OperatorExtra'] : ['Admin'], credentials: [{ credId: OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] }, ...(options.extraSeed?.users ?? [])],
      serviceAccounts,
      pats,
      ...(options.extraSeed?.generate ? { generate: options.extraSeed.generate } : {}),
    },
    knobs: { retryAfterSeconds: 0, ...options.knobs },
  });
  const store = await startStore(options.store ?? 'file', { dir: tmp.path });
  const opKeyFile = join(tmp.path, 'operator.pem');
  writeFileSync(opKeyFile, operatorKey.privateKeyPem, { mode: 0o600 });
  const env: Record<string, string> = {
    DFNS_BASE_URL: sim.url,
    DFNS_ORG_ID: sim.orgId,
    DFNS_OPERATOR_USERNAME: OPERATOR,
    DFNS_OPERATOR_CRED_ID: OPERATOR_CRED_ID,
    DFNS_OPERATOR_PRIVATE_KEY_FILE: opKeyFile,
    ...store.env,
    REDIS_URL: redisUrl(),
    DFNS_ROTATOR_REDIS_PREFIX: `{${testPrefix()}}`,
    // The shipped budget (200/min) paces requests ~0.3 s apart, and this fixture's sleep moves the
    // simulator's clock: tests of rotation behaviour would drift by minutes. Pacing has its own tests.
    DFNS_REQUESTS_PER_MINUTE: '60000',
    ...options.env,
  };
  const config = loadConfig({ env, readFile: (p) => readFileSync(p, 'utf8'), cwd: tmp.path });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const sleep: Sleep = async (ms) => {
    if (ms > 0) sim.clock.advance(ms);
  };
  const runtimes: Runtime[] = [];

  const fixture: Fixture = {
    sim,
    dir: tmp.path,
    operatorKey,
    keys,
    env,
    store,
    config,
    logs,
    logger,
    sleep,
    runtime(overrides = {}) {
      // The AWS SDK reads its credentials from process.env, which the test process does not carry: the fixture's handle has the local server's key.
      const storeHandle = store.kind === 'aws-secrets-manager' ? { store: store.open() } : {};
      const rt = createRuntime({ config, logger, clock: sim.clock, sleep, dfnsRetry: { baseDelayMs: 1, maxDelayMs: 5 }, jobBackoffMs: 10, notifyLimiter: { max: 1000, duration: 1000 }, ...storeHandle, ...overrides });
      runtimes.push(rt);
      return rt;
    },
    configWith(extra) {
      return loadConfig({ env: { ...env, ...extra }, readFile: (p) => readFileSync(p, 'utf8'), cwd: tmp.path });
    },
    writeFile(name, content) {
      const path = join(tmp.path, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    async adopt(seedName, secretName, kind = 'service-account') {
      const held = keys.get(seedName);
      const token = sim.seededTokens.get(seedName);
      if (!held || !token) throw new Error(`fixture: ${seedName} is not a held seeded credential`);
      const rt = runtimes[0] ?? fixture.runtime();
      const list = kind === 'pat' ? await rt.identities.asSecret({ kind, orgId: '', baseUrl: '', credentialId: null, name: '', credId: held.credId, accessToken: token, privateKeyPem: held.key.privateKeyPem, publicKeyPem: '', algorithm: 'ecdsa-p256', expiresAt: null }, 'fixture').listPersonalAccessTokens() : null;
      const credentialId = kind === 'pat' ? list!.find((p) => p.name === seedName)!.tokenId : (await (await rt.identities.operator())!.listServiceAccounts()).find((s) => s.name === seedName)!.id;
      await adoptCredential({ store: rt.store, identities: rt.identities, config, clock: sim.clock }, { secretName, kind, credentialId, accessToken: token, privateKeyPem: held.key.privateKeyPem, credId: held.credId });
    },
    async close() {
      for (const rt of runtimes) {
        await Promise.all(Object.values(rt.queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)));
        await rt.close();
      }
      await sim.close();
      await store.close();
      await tmp.remove();
    },
  };
  return fixture;
}

/** Adds a job and waits for it to finish; returns its return value, or throws its failure. */
export async function runJob<T = unknown>(queue: Queue, name: string, data: unknown, opts: Record<string, unknown> = {}): Promise<T> {
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection, prefix: queue.opts.prefix });
  try {
    await events.waitUntilReady();
    const job = await queue.add(name, data, opts);
    return (await job.waitUntilFinished(events, 20_000)) as T;
  } finally {
    await events.close();
  }
}

/** Waits for every job now in the queue (waiting, delayed, active) to finish, whatever the outcome. */
export async function drain(queue: Queue): Promise<Job[]> {
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection, prefix: queue.opts.prefix });
  try {
    await events.waitUntilReady();
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
    await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 20_000).catch((err: Error) => { if (/timed out/.test(err.message)) throw err; })));
    return jobs;
  } finally {
    await events.close();
  }
}
