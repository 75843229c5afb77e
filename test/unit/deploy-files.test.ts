import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '../../src/config/index.js';
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

  it('build a multi-stage image that runs as an unprivileged, numeric user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    // Numeric uid:gid, so Kubernetes runAsNonRoot accepts it; the same ids own the data folder.
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/useradd --system --uid 10001 --gid rotator/);
    expect(dockerfile).toMatch(/groupadd --system --gid 10001 rotator/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\.js"\]/);
  });

  it('run on the current Node LTS while the code keeps supporting the Node CI runs, and say so in engines', () => {
    const dockerfile = read('Dockerfile');
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(image).not.toBeNull();
    const major = Number(image![1]);
    expect([22, 24]).toContain(major);
    // Both stages use the one image (native modules must match the runtime).
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\}/gm)).toHaveLength(2);
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; license: string; version: string };
    const ranges = pkg.engines.node.split('||').map((r) => r.trim());
    expect(ranges).toContain('^20.10.0');
    expect(ranges).toContain(`^${major}.0.0`);
    // And the Node running these tests (what CI has) is one engines admits.
    const running = Number(process.versions.node.split('.')[0]);
    expect(ranges.some((r) => r.startsWith(`^${running}.`))).toBe(true);
    const labels = Object.fromEntries([...dockerfile.matchAll(/(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(labels['org.opencontainers.image.title']).toBe('dfns-rotator');
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
    expect(dockerfile).toMatch(new RegExp(`^ARG VERSION=${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(labels['org.opencontainers.image.version']).toBe('${VERSION}');
    expect(labels['org.opencontainers.image.description']).toBeTruthy();
  });
});
