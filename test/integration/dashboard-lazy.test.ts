import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * In a process of its own (the test runner may have loaded bull-board already): the built server
 * serves probes, metrics and sign-in without loading bull-board, and loads it once on the first
 * signed-in request under /dashboard, serving every one of several that arrive together.
 */
const CHILD = `
import { createRequire } from 'node:module';
import { Registry } from 'prom-client';
import { createHttpServer } from './dist/server/index.js';
import { SecretValue } from './dist/config/secret-value.js';
import { silentLogger } from './dist/logger.js';
const cache = createRequire(import.meta.url).cache;
const bullBoard = () => Object.keys(cache).filter((k) => k.includes('@bull-board')).length;
const server = await createHttpServer({
  port: 0, auth: { kind: 'token', token: new SecretValue('lazy-token-0123456789', 'test') }, queues: [],
  readiness: async () => ({}), loadInventory: async () => null, registry: new Registry(), logger: silentLogger,
});
const auth = { authorization: 'Bearer lazy-token-0123456789' };
const out = { atStart: bullBoard() };
out.probes = [(await fetch(server.url + '/livez')).status, (await fetch(server.url + '/metrics', { headers: auth })).status, (await fetch(server.url + '/dashboard')).status];
out.afterProbesAndRefusal = bullBoard();
const pages = await Promise.all([1, 2, 3].map(() => fetch(server.url + '/dashboard', { headers: auth }).then(async (r) => [r.status, (await r.text()).includes('dfns-rotator')])));
out.pages = pages;
out.afterDashboard = bullBoard();
await server.close();
console.log(JSON.stringify(out));
`;

describe('the dashboard loads bull-board on first use', () => {
  it('not at start-up, not for probes, metrics or a refused request; then for concurrent first requests, all served', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: REPO_ROOT, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out.atStart).toBe(0);
    expect(out.probes).toEqual([200, 200, 401]);
    expect(out.afterProbesAndRefusal).toBe(0);
    expect(out.pages).toEqual([[200, true], [200, true], [200, true]]);
    expect(out.afterDashboard).toBeGreaterThan(0);
  });
});
