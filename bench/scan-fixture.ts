/**
 * The scan benchmark's world: a simulator in a child process (so its CPU is not counted as the
 * worker's), seeded with `generate` plus held credentials whose token and key the store holds,
 * and a private redis-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config/index.js';
import { generateKeyPair, readTokenExpiry, readTokenIdentity } from '../src/dfns/index.js';
import { startPrivateRedis, type PrivateRedis } from '../src/redis/private-redis.js';
import { addCurrent, FileSecretStore, fileStoreDir, generateStoreKey, storeKeyToText, type ManagedSecret } from '../src/secrets/index.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const OPERATOR = 'rotator@bench.test';
const OPERATOR_CRED_ID = 'rotator-key-1';
const ADMIN = ['Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Deactivate', 'Auth:ServiceAccounts:Delete', 'Auth:Pats:Create', 'Permissions:Assign'];

export interface ScanWorldOptions {
  generatedServiceAccounts: number;
  generatedPats: number;
  heldServiceAccounts: number;
  heldPats: number;
  /** The simulator's latency per request, ms (default 0). */
  latencyMs?: number;
}

export interface ScanWorld {
  config: Config;
  /** The environment the config was loaded from (a child process loads the same config). */
  env: Record<string, string>;
  /** Where the config's relative paths resolve. */
  dir: string;
  store: FileSecretStore;
  redis: PrivateRedis;
  close(): Promise<void>;
}

/** Starts `dfns-rotator simulator` and resolves once it has written the seeded tokens. */
async function startSimulatorChild(seedFile: string, tokensFile: string, latencyMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--seed', seedFile, '--tokens-out', tokensFile, '--latency', String(latencyMs)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/^wrote \d+ seeded access tokens/.test(line)) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

export async function startScanWorld(options: ScanWorldOptions): Promise<ScanWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'dfns-rotator-scan-bench-'));
  const redis = await startPrivateRedis();
  const operatorKey = await generateKeyPair('ed25519');
  const heldKey = await generateKeyPair('ed25519');
  const pad = (i: number) => String(i + 1).padStart(3, '0');
  // Held credentials spread over their lifetime, so some are due for rotation.
  const heldSas = Array.from({ length: options.heldServiceAccounts }, (_, i) => ({
    name: `held-sa-${pad(i)}`, credId: `held-sa-key-${pad(i)}`, publicKeyPem: heldKey.publicKeyPem,
    ageDays: (360 * i) / Math.max(1, options.heldServiceAccounts - 1), daysValid: 365,
  }));
  const heldPats = Array.from({ length: options.heldPats }, (_, i) => ({
    name: `held-pat-${pad(i)}`, owner: OPERATOR, credId: `held-pat-key-${pad(i)}`, publicKeyPem: heldKey.publicKeyPem,
    ageDays: (59 * i) / Math.max(1, options.heldPats - 1), daysValid: 60,
  }));
  const seed = {
    permissions: [{ name: 'Admin', operations: ADMIN }],
    users: [{ username: OPERATOR, permissions: ['Admin'], credentials: [{ credId: OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] }],
    serviceAccounts: heldSas,
    pats: heldPats,
    generate: { serviceAccounts: options.generatedServiceAccounts, pats: options.generatedPats, patOwner: OPERATOR, maxAgeDays: 800, daysValid: 730 },
  };
  const seedFile = join(dir, 'seed.json');
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(seedFile, JSON.stringify(seed));
  const sim = await startSimulatorChild(seedFile, tokensFile, options.latencyMs ?? 0);
  const { url, orgId, tokens } = JSON.parse(readFileSync(tokensFile, 'utf8')) as { url: string; orgId: string; tokens: Record<string, string> };

  const opKeyFile = join(dir, 'operator.pem');
  writeFileSync(opKeyFile, operatorKey.privateKeyPem, { mode: 0o600 });
  const storeKey = generateStoreKey();
  const env = {
    DFNS_BASE_URL: url, DFNS_ORG_ID: orgId, DFNS_OPERATOR_USERNAME: OPERATOR, DFNS_OPERATOR_CRED_ID: OPERATOR_CRED_ID,
    DFNS_OPERATOR_PRIVATE_KEY_FILE: opKeyFile, DFNS_ROTATOR_STORE_DIR: join(dir, 'secrets'), DFNS_ROTATOR_STORE_KEY: storeKeyToText(storeKey),
    REDIS_URL: redis.url, DFNS_ROTATOR_REDIS_PREFIX: '{bench}',
  };
  const config = loadConfig({ env, readFile: (p) => readFileSync(p, 'utf8'), cwd: dir });

  // Held credentials go straight into the store (what `adopt` would write, minus its Dfns checks).
  const store = new FileSecretStore({ dir: fileStoreDir(config.store), key: storeKey });
  const now = Date.now();
  for (const item of [...heldSas.map((s) => ({ ...s, kind: 'service-account' as const })), ...heldPats.map((p) => ({ ...p, kind: 'pat' as const }))]) {
    const token = tokens[item.name]!;
    const claims = readTokenIdentity(token);
    const expiry = readTokenExpiry(token);
    const expiresAt = expiry.kind === 'expires' ? expiry.expiresAt : null;
    const credentialId = item.kind === 'pat' ? claims.tokenId! : claims.userId!;
    const secret: ManagedSecret = {
      kind: item.kind, orgId, baseUrl: url, credentialId, name: item.name, credId: item.credId, accessToken: token,
      privateKeyPem: heldKey.privateKeyPem, publicKeyPem: heldKey.publicKeyPem, algorithm: 'ed25519', expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
    const { versions } = addCurrent(null, `bench/${item.name}`, secret, {
      createdAt: now, rotatedAt: now, expiresAt, credId: item.credId, credentialId, ...(item.kind === 'pat' ? { ownerId: claims.userId! } : {}),
    });
    await store.put(`bench/${item.name}`, versions, null);
  }

  return {
    config,
    env,
    dir,
    store,
    redis,
    async close() {
      await new Promise<void>((resolve) => {
        sim.once('exit', () => resolve());
        sim.kill('SIGTERM');
      });
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
