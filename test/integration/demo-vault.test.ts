import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Issue 10: `dfns-rotator demo --store vault` starts a local Vault too and prints the one curl a
 * consuming service would use. The test runs that request (same URL, same header) before and
 * after the demo's first rotation of payments-api.
 */
describe('dfns-rotator demo --store vault', () => {
  let tmp: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(() => tmp.remove());

  it('prints a curl that reads the current credential, which follows the rotation', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', '--store', 'vault', '--dir', tmp.path, '--port', '0'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const w of [...waiters]) {
        const m = w.re.exec(line);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const waitFor = (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const seen = lines.map((l) => re.exec(l)).find(Boolean);
        if (seen) return resolve(seen);
        waiters.push({ re, resolve });
        void exited.then(() => reject(new Error(`demo exited before printing ${re}; stderr: ${stderr}\n${lines.join('\n')}`)));
      });
    try {
      const curl = await waitFor(/^\s+curl -s -H "X-Vault-Token: (\S+)" (http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/dfns-rotator\/demo\/payments-api) \| jq \.data\.data$/);
      const [, token, url] = curl;
      const read = async () => ((await (await fetch(url!, { headers: { 'X-Vault-Token': token! } })).json()) as { data: { data: Record<string, string>; metadata: { version: number } } }).data;
      const before = await read();
      expect(before.data).toMatchObject({ format: 'dfns-rotator/credential/v1', kind: 'service-account', name: 'payments-api' });

      await waitFor(/rotation succeeded\s+secretName=demo\/payments-api/);
      const after = await read();
      expect(after.metadata.version).toBe(before.metadata.version + 1);
      expect(after.data.serviceAccountId).not.toBe(before.data.serviceAccountId);
      expect(after.data.accessToken).not.toBe(before.data.accessToken);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
