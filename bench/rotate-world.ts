/**
 * The rotation benchmark's world: a simulator in a child process (50 ms latency, Dfns' 1,000
 * requests/min) with N service accounts whose tokens and keys the file store holds, and a
 * private redis-server.
 *
 * The held credentials are written straight into the store, as `adopt` would write them, minus
 * adopt's Dfns checks (3 requests each): setup then costs no Dfns request at all, so nothing of
 * it is left in the simulator's rate-limit window or the client limiter when the measurement
 * starts, and the simulator keeps its production rate limit throughout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config/index.js';
import { generateKeyPair, readTokenExpiry, readTokenIdentity, type KeyPairPem } from '../src/dfns/index.js';
import type { SimKnobs } from '../src/dfns/simulator/index.js';
import { startPrivateRedis, type PrivateRedis } from '../src/redis/private-redis.js';
import { addCurrent, FileSecretStore, fileStoreDir, generateStoreKey, storeKeyToText, type ManagedSecret } from '../src/secrets/index.js';
import { startSimulatorChild, type SimulatorChild } from './simulator-child.js';

const OPERATOR = 'rotator@bench.test';
const OPERATOR_CRED_ID = 'rotator-key-1';
const ADMIN = ['Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Deactivate', 'Auth:ServiceAccounts:Delete', 'Auth:Pats:Create', 'Permissions:Assign'];

export interface RotateWorldOptions {
  serviceAccounts: number;
  knobs: Partial<SimKnobs>;
  /** Extra environment for the config (e.g. DFNS_ROTATOR_OVERLAP_HOURS). */
  env: Record<string, string>;
  /** Service accounts seeded but not in the store (another application's), by name: their tokens are in `sim.tokens`. */
  unmanaged?: string[];
}

export interface RotateWorld {
  config: Config;
  /** The environment the config was loaded from (child daemons load the same config). */
  env: Record<string, string>;
  /** Where relative paths of the config resolve. */
  dir: string;
  sim: SimulatorChild;
  redis: PrivateRedis;
  /** Secret names, in order. */
  secrets: string[];
  close(): Promise<void>;
}

export const secretNameOf = (i: number) => `bench/rot-sa-${String(i + 1).padStart(4, '0')}`;

export async function startRotateWorld(options: RotateWorldOptions): Promise<RotateWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'dfns-rotator-rotate-bench-'));
  const redis = await startPrivateRedis();
  const operatorKey = await generateKeyPair('ed25519');
  // One key per service account, as in a real org (ECDSA P-256, the default algorithm).
  const keys: KeyPairPem[] = await Promise.all(Array.from({ length: options.serviceAccounts }, () => generateKeyPair('ecdsa-p256')));
  const names = keys.map((_, i) => `rot-sa-${String(i + 1).padStart(4, '0')}`);
  const seed = {
    permissions: [{ name: 'Admin', operations: ADMIN }, { name: 'Payments', operations: ['Auth:ServiceAccounts:Read'] }],
    users: [{ username: OPERATOR, permissions: ['Admin'], credentials: [{ credId: OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] }],
    // Each carries one permission, so the rotation creates the replacement with it and verify compares them.
    serviceAccounts: [
      ...names.map((name, i) => ({ name, credId: `${name}-key`, publicKeyPem: keys[i]!.publicKeyPem, permission: 'Payments', ageDays: 300, daysValid: 365 })),
      ...(options.unmanaged ?? []).map((name) => ({ name, credId: `${name}-key`, publicKeyPem: operatorKey.publicKeyPem, permission: 'Payments', ageDays: 10, daysValid: 365 })),
    ],
  };
  const sim = await startSimulatorChild(seed, options.knobs);

  const opKeyFile = join(dir, 'operator.pem');
  writeFileSync(opKeyFile, operatorKey.privateKeyPem, { mode: 0o600 });
  const storeKey = generateStoreKey();
  const env = {
    DFNS_BASE_URL: sim.url, DFNS_ORG_ID: sim.orgId, DFNS_OPERATOR_USERNAME: OPERATOR, DFNS_OPERATOR_CRED_ID: OPERATOR_CRED_ID,
    DFNS_OPERATOR_PRIVATE_KEY_FILE: opKeyFile, DFNS_ROTATOR_STORE_DIR: join(dir, 'secrets'), DFNS_ROTATOR_STORE_KEY: storeKeyToText(storeKey),
    REDIS_URL: redis.url, DFNS_ROTATOR_REDIS_PREFIX: '{bench}',
    ...options.env,
  };
  const config = loadConfig({ env, readFile: (p) => readFileSync(p, 'utf8'), cwd: dir });

  const store = new FileSecretStore({ dir: fileStoreDir(config.store), key: storeKey, createDir: true });
  const now = Date.now();
  const secrets = names.map((_, i) => secretNameOf(i));
  const write = async (i: number) => {
    const name = names[i]!;
    const token = sim.tokens[name]!;
    const expiry = readTokenExpiry(token);
    const expiresAt = expiry.kind === 'expires' ? expiry.expiresAt : null;
    const credentialId = readTokenIdentity(token).userId!;
    const credId = `${name}-key`;
    const secret: ManagedSecret = {
      kind: 'service-account', orgId: sim.orgId, baseUrl: sim.url, credentialId, name, credId, accessToken: token,
      privateKeyPem: keys[i]!.privateKeyPem, publicKeyPem: keys[i]!.publicKeyPem, algorithm: 'ecdsa-p256',
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
    const { versions } = addCurrent(null, secrets[i]!, secret, { createdAt: now, rotatedAt: now, expiresAt, credId, credentialId });
    await store.put(secrets[i]!, versions, null);
  };
  for (let i = 0; i < names.length; i += 16) await Promise.all(names.slice(i, i + 16).map((_, j) => write(i + j)));

  return {
    config,
    env,
    dir,
    sim,
    redis,
    secrets,
    async close() {
      await sim.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
