import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `npx dfns-rotator` runs, from source (no build needed), from any folder. */
const CLI = [process.execPath, '--import', pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(REPO_ROOT, 'src/cli.ts')];

/**
 * Issue 13, as a newcomer: `npm run demo` in one terminal; in another, source what the demo
 * wrote and use the CLI against it. Only PATH reaches the processes, as in a fresh shell.
 */
describe('the demo, driven from a second terminal', () => {
  let tmp: { path: string; remove(): Promise<void> };
  let demo: ChildProcess;
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let dir: string;

  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return resolve(seen);
      waiters.push({ re, resolve });
      demo.once('exit', (code) => reject(new Error(`demo exited (${code}) before printing ${re}; output:\n${lines.join('\n')}`)));
    });

  /** A second terminal: `. DIR/env`, then the command. */
  function inSourcedShell(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn('bash', ['-c', '. "$0" && exec "$@"', join(dir, 'env'), ...CLI, ...args], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.path, '.demo');
    demo = spawn(CLI[0]!, [...CLI.slice(1), 'demo', '--port', '0'], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stderr!.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n')));
    createInterface({ input: demo.stdout! }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters.splice(0)) (w.re.test(line) ? w.resolve(line) : waiters.push(w));
    });
    await waitFor(/^Use the CLI against this demo/);
    // The catch-up scan at start; status fails (rightly) until one has finished.
    await waitFor(/scan finished/);
  }, 60_000);

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo.once('exit', resolve));
      demo.kill('SIGINT');
      await exited;
    }
    await tmp?.remove();
  });

  it('prints how to use what it wrote, and writes it privately, with no secret inline', () => {
    expect(lines).toContain('  npx dfns-rotator status             # health: last scan, queues, failures');
    expect(lines.some((l) => l.startsWith('  . ./.demo/env'))).toBe(true);
    expect(lines.some((l) => l.includes('npx dfns-rotator status --config ./.demo/config.yaml'))).toBe(true);
    for (const file of ['env', 'config.yaml', 'store.key', 'dashboard.token', 'operator.pem']) {
      expect({ file, mode: statSync(join(dir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    const env = readFileSync(join(dir, 'env'), 'utf8');
    const token = readFileSync(join(dir, 'dashboard.token'), 'utf8').trim();
    const storeKey = readFileSync(join(dir, 'store.key'), 'utf8').trim();
    expect(env).toContain(`export DFNS_ROTATOR_DASHBOARD_TOKEN_FILE=${join(dir, 'dashboard.token')}`);
    expect(env).not.toContain(token);
    expect(env).not.toContain(storeKey);
    // The banner and the log agree on days left (one rounding rule).
    expect(lines.find((l) => l.includes('payments-api') && l.includes('service account'))).toContain('expires in 10 days');
  });

  it('status, plan --json, history --json and secret list succeed against the running demo', async () => {
    const status = await inSourcedShell(['status', '--json']);
    expect(status.stderr).toBe('');
    const report = JSON.parse(status.stdout) as { ok: boolean; problems: string[]; scan: { total: number } };
    expect(report.problems).toEqual([]);
    expect(status.code).toBe(0);
    expect(report.scan.total).toBe(7);

    const plan = await inSourcedShell(['plan', '--json']);
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as { items: { name: string; state: string }[] };
    expect(planned.items.map((i) => i.name).sort()).toEqual(expect.arrayContaining(['legacy-batch', 'reporting', 'treasury-batch']));

    const history = await inSourcedShell(['history', '--json']);
    expect(history.code).toBe(0);
    expect(Array.isArray(JSON.parse(history.stdout))).toBe(true);

    const secrets = await inSourcedShell(['secret', 'list']);
    expect(secrets.code).toBe(0);
    expect(secrets.stdout).toContain('demo/payments-api');
    expect(secrets.stdout).not.toContain(readFileSync(join(dir, 'store.key'), 'utf8').trim());
  });

  it('runs the printed commands as printed (npx dfns-rotator standing for this checkout)', async () => {
    // `npx dfns-rotator` resolves to this package's bin inside the project; here, a shell function does.
    const npx = `npx() { [ "$1" = dfns-rotator ] && shift; exec ${CLI.map((a) => `'${a}'`).join(' ')} "$@"; }`;
    const run = (command: string) =>
      new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn('bash', ['-c', `${npx}; . ./.demo/env && (${command})`], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      });
    const printed = (needle: string) => lines.find((l) => l.includes(needle))!.trim().split(/\s{3,}/)[0]!.split('   (')[0]!;
    const read = await run(printed('secret get demo/payments-api > credential.json'));
    expect(read.code).toBe(0);
    const credential = JSON.parse(readFileSync(join(tmp.path, 'credential.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(credential)).toEqual(expect.arrayContaining(['accessToken', 'privateKey']));
    const status = await run(printed('npx dfns-rotator status  '));
    expect(status.stdout).toContain('Last scan:');
    expect(status.code).toBe(0);
  });

  it('also works with --config and no environment at all', async () => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), 'status', '--config', '.demo/config.yaml'], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(out).toContain('Last scan:');
    expect(code).toBe(0);
  });

  it("pre-fills the dashboard's Add job with a secret the store really holds", async () => {
    const url = /^dashboard\s+(http:\/\/\S+)\/dashboard/.exec(lines.find((l) => l.startsWith('dashboard '))!)![1]!;
    const token = readFileSync(join(dir, 'dashboard.token'), 'utf8').trim();
    const res = await fetch(`${url}/dashboard/api/queues/rotate/job-data-schema`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as Record<string, unknown>;
    const text = JSON.stringify(body);
    expect(text).toContain('"credential":"demo/');
    const secrets = await inSourcedShell(['secret', 'list']);
    const example = /"credential":"(demo\/[a-z-]+)"/.exec(text)![1]!;
    expect(secrets.stdout).toContain(example);
  });
});

describe('the demo on the local AWS Secrets Manager, driven from a second terminal', () => {
  let tmp: { path: string; remove(): Promise<void> };
  let demo: ChildProcess;
  const lines: string[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir();
    demo = spawn(CLI[0]!, [...CLI.slice(1), 'demo', '--port', '0', '--store', 'aws-secrets-manager'], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stderr!.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n')));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: demo.stdout! }).on('line', (line) => {
        lines.push(line);
        if (/scan finished/.test(line)) resolve();
      });
      demo.once('exit', (code) => reject(new Error(`demo exited (${code}); output:\n${lines.join('\n')}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo.once('exit', resolve));
      demo.kill('SIGINT');
      await exited;
    }
    await tmp?.remove();
  });

  it('reaches the store through the demo key file named in DIR/env', async () => {
    const dir = join(tmp.path, '.demo');
    const env = readFileSync(join(dir, 'env'), 'utf8');
    expect(env).toContain(`export AWS_SHARED_CREDENTIALS_FILE=${join(dir, 'aws-credentials')}`);
    expect(env).not.toMatch(/AWS_SECRET_ACCESS_KEY/);
    expect(statSync(join(dir, 'aws-credentials')).mode & 0o777).toBe(0o600);
    const child = spawn('bash', ['-c', '. "$0" && exec "$@"', join(dir, 'env'), ...CLI, 'secret', 'list'], { cwd: tmp.path, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(out).toContain('demo/payments-api');
    expect(code).toBe(0);
  });
});

