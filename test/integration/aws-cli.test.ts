import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `dfns-rotator …` as a child process (src/cli.ts through tsx), read line by line; tests wait for lines, never for time. */
class Cli {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        const m = w.re.exec(line);
        if (m) w.resolve(m);
        return !m;
      });
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** The first line (already printed or to come) matching `re`; fails when the process exits first. */
  line(re: RegExp): Promise<RegExpExecArray> {
    for (const l of this.lines) {
      const m = re.exec(l);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ re, resolve });
      void this.exited.then(() => reject(new Error(`exited before printing ${re}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`)));
    });
  }
}

describe('dfns-rotator simulator aws-secrets-manager', () => {
  it('serves the official SDK with the key it was given, refuses others, and stops cleanly on SIGTERM', async () => {
    const cli = new Cli(['simulator', 'aws-secrets-manager', '--port', '0', '--access-key-id', 'AKIDCLITEST', '--secret-access-key', 'cli-secret']);
    const [, url] = await cli.line(/^AWS Secrets Manager simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(region us-east-1\)$/);
    const good = new SecretsManagerClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-secret' } });
    const bad = new SecretsManagerClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'other' }, maxAttempts: 1 });
    try {
      await good.send(new CreateSecretCommand({ Name: 'cli/x', SecretString: '{"a":1}' }));
      expect((await good.send(new GetSecretValueCommand({ SecretId: 'cli/x' }))).SecretString).toBe('{"a":1}');
      await expect(bad.send(new GetSecretValueCommand({ SecretId: 'cli/x' }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    } finally {
      good.destroy();
      bad.destroy();
    }
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.lines.at(-1)).toBe('AWS Secrets Manager simulator stopped');
    expect(cli.stderr).toBe('');
  });

  it('exits 2 naming each missing or bad flag', async () => {
    const cli = new Cli(['simulator', 'aws-secrets-manager', '--port', 'x', '--access-key-id', 'A']);
    expect((await cli.exited).code).toBe(2);
    expect(cli.stderr).toMatch(/--port: must be an integer 0\.\.65535, got "x"/);
    expect(cli.stderr).toMatch(/--secret-access-key: required/);
  });
});

describe('dfns-rotator demo --store aws-secrets-manager', () => {
  let tmp: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('rotates into a local Secrets Manager and prints a consumer command that reads the new credential with the official SDK', async () => {
    // no REDIS_URL: the demo starts its own redis-server, as for a newcomer
    const demo = new Cli(['demo', '--store', 'aws-secrets-manager', '--dir', tmp.path, '--port', '0'], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    try {
      const [, command] = await demo.line(/^ {4}(AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ node --input-type=module -e .*)$/);
      const [, accessKeyId, secretAccessKey, endpoint] = /^AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) .*endpoint: '(http:[^']+)'/.exec(command!)!;
      expect(demo.lines.some((l) => /^ {4}AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ aws secretsmanager get-secret-value --endpoint-url http:\S+ --region us-east-1 --secret-id dfns-rotator\/demo\/payments-api /.test(l))).toBe(true);
      const [, newId] = await demo.line(/rotation succeeded\s+secretName=demo\/payments-api .*newCredentialId=(us-\S+)/);

      // The printed command, run as a consuming service would: the official SDK, AWSCURRENT.
      const { stdout } = await promisify(execFile)('sh', ['-c', command!], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
      const [versionId, serviceAccountId, expiresAt] = stdout.trim().split(' ');
      expect(serviceAccountId).toBe(newId);
      expect(versionId).toMatch(/^dfr-/);
      expect(Date.parse(expiresAt!)).toBeGreaterThan(Date.now());

      // The credential it replaced is AWSPREVIOUS.
      const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! } });
      try {
        const previous = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'dfns-rotator/demo/payments-api', VersionStage: 'AWSPREVIOUS' }))).SecretString!) as { serviceAccountId: string; accessToken: string };
        const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'dfns-rotator/demo/payments-api' }))).SecretString!) as { serviceAccountId: string; accessToken: string };
        expect(previous.serviceAccountId).toMatch(/^us-/);
        expect(previous.serviceAccountId).not.toBe(newId);
        expect(previous.accessToken).not.toBe(current.accessToken);
      } finally {
        sm.destroy();
      }
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect((await demo.exited).code).toBe(0);
    // no token is printed to the terminal
    expect(demo.lines.join('\n')).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  }, 60_000);
});
