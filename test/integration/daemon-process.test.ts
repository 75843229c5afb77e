import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/private-redis.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'process-test-token-0123456789abcdef';

interface Running {
  lines: string[];
  stderr: () => string;
  waitFor(re: RegExp): Promise<string>;
  kill(signal: NodeJS.Signals): void;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `dfns-rotator start` as users run it, the built `dist/cli.js` (pino's style of exit test), read line by line. */
function startCli(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) (w.re.test(line) ? w.resolve(line) : waiters.push(w));
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    lines,
    stderr: () => stderr,
    waitFor: (re) => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ re, resolve })),
        exit.then(({ code }) => Promise.reject(new Error(`exited ${code} before ${re}; stderr: ${stderr}`))),
      ]);
    },
    kill: (signal) => child.kill(signal),
    exit,
  };
}

describe('the daemon process', () => {
  let fx: Fixture;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'proc-sa', ageDays: 10 }] });
  });
  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('starts, serves /readyz, and exits 0 on SIGTERM after a clean shutdown', async () => {
    const port = await freePort();
    const daemon = startCli(['start'], { ...fx.env, DFNS_ROTATOR_DASHBOARD_TOKEN: TOKEN, DFNS_ROTATOR_PORT: String(port) });
    await daemon.waitFor(/^dfns-rotator is running/);
    const dashboardLine = await daemon.waitFor(/dashboard: http/);
    expect(dashboardLine).toContain(`http://127.0.0.1:${port}/dashboard`);
    expect(daemon.lines.join('\n')).toMatch(/ok {3}operator rotator@acme\.test: logged in; sees 1 service accounts/);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    daemon.kill('SIGTERM');
    const exit = await daemon.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.stderr()).toMatch(/"msg":"stopped"/);
    expect(daemon.stderr()).not.toMatch(/PRIVATE KEY|eyJhbGci/);
  });

  it('exits 1 with a clear message when Redis is unreachable', async () => {
    const port = await freePort();
    const daemon = startCli(['start'], { ...fx.env, DFNS_ROTATOR_DASHBOARD_TOKEN: TOKEN, REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` });
    const exit = await daemon.exit;
    expect(exit.code).toBe(1);
    expect(daemon.stderr()).toMatch(/dfns-rotator start: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(daemon.stderr()).not.toContain('hunter2');
  });

  it('exits 2 when the dashboard has no credentials configured', async () => {
    const daemon = startCli(['start'], fx.env);
    const exit = await daemon.exit;
    expect(exit.code).toBe(2);
    expect(daemon.stderr()).toMatch(/server\.auth: the dashboard can trigger rotations/);
  });
});
