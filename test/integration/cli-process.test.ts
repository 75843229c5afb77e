import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStoreKey, storeKeyToText } from '../../src/secrets/store-key.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The real entry point as a child process (pino's style of exit test): `node --import tsx
 * src/cli.ts`, so no build is needed. Only PATH and the variables a test sets reach the child.
 */
function startCli(args: string[], env: Record<string, string> = {}, onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    onLine?.(line, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' waits for the output streams to end, so every line has been read.
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the dfns-rotator process', () => {
  let tmp: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('exits 2 on a bad configuration, with one line per problem naming the field', async () => {
    const storeKey = storeKeyToText(generateStoreKey());
    const result = await startCli(['plan'], {
      // DFNS_ORG_ID missing
      DFNS_OPERATOR_USERNAME: 'rotator@acme.test',
      DFNS_OPERATOR_CRED_ID: 'cred-1',
      DFNS_OPERATOR_PRIVATE_KEY_FILE: `${tmp.path}/no-such-key.pem`,
      DFNS_ROTATOR_STORE_KEY: storeKey,
      DFNS_ROTATOR_SCHEDULE: '61 * * * *',
      DFNS_ROTATOR_WARN_DAYS: '7,14,30',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('dfns-rotator plan: invalid configuration:');
    const problems = lines.slice(1);
    expect(problems).toHaveLength(4);
    for (const field of ['dfns.orgId', 'schedule.scan', 'thresholds.warnDays', 'operator.privateKey']) {
      expect(problems.filter((l) => l.startsWith(`  - ${field}`))).toHaveLength(1);
    }
    expect(problems.find((l) => l.includes('dfns.orgId'))).toMatch(/required.*DFNS_ORG_ID/);
    expect(problems.find((l) => l.includes('schedule.scan'))).toMatch(/invalid cron expression "61 \* \* \* \*"/);
    expect(problems.find((l) => l.includes('thresholds.warnDays'))).toMatch(/strictly decreasing.*\[7, 14, 30\]/);
    expect(problems.find((l) => l.includes('operator.privateKey'))).toMatch(/cannot read file .*no-such-key\.pem \(ENOENT\)/);
    // The store key is a secret: never echoed, even in an error.
    expect(result.stderr).not.toContain(storeKey);
  });

  it('exits 2 on an unknown command, with the help on stderr', async () => {
    const result = await startCli(['rotate-everything']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dfns-rotator: unknown command "rotate-everything"\n/);
    expect(result.stderr).toContain('usage: npx dfns-rotator <command>');
    expect(result.stdout).toBe('');
  });

  it('exits 0 on --help, listing the commands', async () => {
    const result = await startCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['simulator', 'init', 'plan', 'adopt']) expect(result.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    expect(result.stderr).toBe('');
  });

  it('stops the simulator cleanly on SIGTERM', async () => {
    let url = '';
    const result = await startCli(['simulator', '--port', '0'], {}, (line, child) => {
      const m = /^Dfns simulator listening on (http:\S+)/.exec(line);
      if (m) {
        url = m[1]!;
        child.kill('SIGTERM');
      }
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('simulator stopped');
    expect(result.stderr).toBe('');
  });

  it('runs a local Vault with `simulator vault --port N --token T`, and stops it cleanly on SIGTERM', async () => {
    let url = '';
    const checks: Promise<void>[] = [];
    const seen: number[] = [];
    const result = await startCli(['simulator', 'vault', '--port', '0', '--token', 'hvs.cli-test'], {}, (line, child) => {
      const m = /^Vault .* listening on (http:\S+)$/.exec(line);
      if (!m) return;
      url = m[1]!;
      checks.push((async () => {
        try {
          const put = await fetch(`${url}/v1/secret/data/a/b`, { method: 'POST', headers: { 'X-Vault-Token': 'hvs.cli-test' }, body: JSON.stringify({ options: { cas: 0 }, data: { k: 'v' } }) });
          const get = await fetch(`${url}/v1/secret/data/a/b`, { headers: { 'X-Vault-Token': 'hvs.cli-test' } });
          const denied = await fetch(`${url}/v1/secret/data/a/b`, { headers: { 'X-Vault-Token': 'wrong' } });
          seen.push(put.status, get.status, denied.status);
        } finally {
          child.kill('SIGTERM');
        }
      })());
    });
    await Promise.all(checks);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(seen).toEqual([200, 200, 403]);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout).not.toContain('root token:');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('Vault stopped');
    expect(result.stderr).toBe('');
  });

  it('refuses bad `simulator vault` flags with exit code 2', async () => {
    const result = await startCli(['simulator', 'vault', '--port', 'x', '--approle', 'nocolon', '--kubernetes', 'rotator:/nonexistent/token']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--kubernetes: cannot read /nonexistent/token (ENOENT)');
    expect(result.stderr).toContain('--port: must be an integer 0..65535, got "x"');
    expect(result.stderr).toContain('--approle: expected ROLE_ID:SECRET_ID');
  });
});
