import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `dfns-rotator/client` is imported by production services: it must stay light. Every module its
 * entry reaches (static and dynamic imports, followed through the source) is listed, and none of
 * the daemon's parts may be among them.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (/^import\s+type\s/.test(m[0].trim()) || /^export\s+type\s/.test(m[0].trim())) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (!existsSync(target)) throw new Error(`${file}: cannot resolve ${spec}`);
        queue.push(target);
      } else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

const STORE_CLIENTS = ['@aws-sdk/client-secrets-manager'];

describe('the client entry', () => {
  const { files, packages } = reach(join(SRC, 'client', 'index.ts'));

  it('loads none of the daemon: no queues, Redis, HTTP server, dashboard, scheduler', () => {
    for (const heavy of ['bullmq', 'ioredis', 'express', '@bull-board/api', '@bull-board/express', 'node-cron', 'prom-client', '@slack/webhook']) {
      expect(packages, heavy).not.toContain(heavy);
    }
    const inside = [...files].map((f) => f.slice(SRC.length));
    expect(inside.filter((f) => /^(jobs|daemon|server|commands|notify|redis|demo)\//.test(f) || f === 'cli.ts')).toEqual([]);
  });

  it('uses the official SDK', () => {
    expect(packages).toContain('@dfns/sdk');
    expect(packages).not.toContain('@dfns/sdk-keysigner');
    // The official SDK, logging and validation, and the store adapters' own clients (AWS SDK for aws-secrets-manager).
    expect([...packages].filter((p) => !p.startsWith('node:') && !STORE_CLIENTS.includes(p)).sort()).toEqual(['@dfns/sdk', 'pino', 'zod']);
    expect(files.size).toBeGreaterThan(10);
  });
});
