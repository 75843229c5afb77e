import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '../../src/config.js';
import { INIT_FILES } from '../../src/commands/init.js';

/**
 * docker-compose.yml, .env.example and the Dockerfile cannot be run here (no Docker engine), so
 * their contract with the code is checked instead: every variable they set is one the config
 * reads, the key files are the ones `init` writes, Redis cannot evict, the dashboard stays local.
 */
const root = new URL('../../', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');
const known = new Set(ENV_VARS.map((v) => v.name));

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[] }> };

  it('set only variables the config knows', () => {
    const env = compose.services.rotator!.environment!;
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const example = read('.env.example').split('\n').map((l) => l.replace(/^#\s*/, '')).filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]!);
    expect(example.length).toBeGreaterThan(3);
    expect(example.filter((k) => !known.has(k))).toEqual([]);
  });

  it('point at the key files init writes, inside the volume', () => {
    const env = compose.services.rotator!.environment!;
    const files = ['DFNS_ROTATOR_STORE_KEY_FILE', 'DFNS_OPERATOR_PRIVATE_KEY_FILE', 'DFNS_ROTATOR_DASHBOARD_TOKEN_FILE'].map((k) => env[k]!);
    expect(files.map((f) => basename(f)).sort()).toEqual([INIT_FILES.dashboardToken, INIT_FILES.privateKey, INIT_FILES.storeKey].sort());
    for (const f of files) expect(f.startsWith('/var/lib/dfns-rotator/keys/')).toBe(true);
  });

  it('run Redis with noeviction and AOF, and publish the dashboard on localhost only', () => {
    const cmd = compose.services.redis!.command!.join(' ');
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendonly yes/);
    expect(compose.services.rotator!.ports).toEqual(['127.0.0.1:8730:8730']);
  });

  it('build a multi-stage image that runs as an unprivileged user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER rotator$/m);
    expect(dockerfile).toMatch(/useradd --system --uid 10001/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\.js"\]/);
  });
});
