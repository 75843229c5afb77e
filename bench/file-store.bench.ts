/**
 * File store throughput: writes N secrets, then times `list()` (decrypts every file) and `get()`.
 * Prints one JSON object. Run: `node --import tsx bench/file-store.bench.ts [count]`.
 * The requirement it watches: `list()` over 1,000 secrets stays well under a second.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { FileSecretStore } from '../src/secrets/file-store.js';
import { generateStoreKey } from '../src/secrets/store-key.js';
import type { SecretVersion } from '../src/secrets/types.js';

export interface FileStoreBenchResult {
  bench: 'file-store';
  secrets: number;
  putTotalMs: number;
  listMs: number[];
  listMedianMs: number;
  getMedianMs: number;
}

function version(i: number, versionId: number, stage: 'current' | 'previous'): SecretVersion {
  return {
    versionId,
    stages: [stage],
    metadata: { createdAt: 1_700_000_000_000 + i, rotatedAt: 1_700_000_000_000 + i, rotationId: `01J${i}`, expiresAt: 1_800_000_000_000 },
    value: {
      kind: i % 2 ? 'pat' : 'service-account',
      orgId: 'or-bench',
      baseUrl: 'https://api.dfns.io',
      credentialId: `us-bench-${i}-${versionId}`,
      name: `bot-${i}`,
      credId: `cred-${i}-${versionId}`,
      accessToken: `eyJ${'x'.repeat(800)}`,
      privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${'k'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
      publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${'p'.repeat(60)}\n-----END PUBLIC KEY-----\n`,
      algorithm: 'ed25519',
      expiresAt: '2027-01-15T00:00:00.000Z',
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
const round = (ms: number) => Math.round(ms * 10) / 10;

export async function runFileStoreBench(count = 1000): Promise<FileStoreBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'dfns-rotator-bench-'));
  try {
    const store = new FileSecretStore({ dir, key: generateStoreKey() });
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      // two versions each, like a secret after its first rotation
      await store.put(`team-${i % 10}/bot-${i}`, [version(i, 1, 'previous'), version(i, 2, 'current')], null);
    }
    const putTotalMs = performance.now() - t0;

    const listMs: number[] = [];
    for (let run = 0; run < 5; run++) {
      const start = performance.now();
      const list = await store.list();
      listMs.push(performance.now() - start);
      if (list.length !== count) throw new Error(`list returned ${list.length} secrets, expected ${count}`);
    }
    const getMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      await store.get(`team-${i % 10}/bot-${i}`);
      getMs.push(performance.now() - start);
    }
    return { bench: 'file-store', secrets: count, putTotalMs: round(putTotalMs), listMs: listMs.map(round), listMedianMs: round(median(listMs)), getMedianMs: round(median(getMs)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = Number(process.argv[2] ?? 1000);
  console.log(JSON.stringify(await runFileStoreBench(count)));
}
