import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INIT_FILES, initCommand } from '../../src/commands/init.js';
import { loadConfig } from '../../src/config/index.js';
import { detectKeyAlgorithm, privateKeyMatchesPublicKey } from '../../src/dfns/keys.js';
import { ConfigError } from '../../src/errors.js';
import { fileStoreDir } from '../../src/secrets/index.js';
import { parseStoreKey } from '../../src/secrets/store-key.js';
import { runCommand, type CommandRun } from '../helpers/command-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** `dfns-rotator init`: the files a first install needs, their modes, and next steps that print no secret. */
describe('init command', () => {
  let tmp: { path: string; remove(): Promise<void> };

  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(async () => {
    await tmp.remove();
  });

  const init = (argv: string[] = []) => runCommand(initCommand, argv, { env: {}, cwd: tmp.path });
  const mode = (path: string) => statSync(path).mode & 0o777;
  const read = (path: string) => readFileSync(path, 'utf8');
  const printedPem = (run: CommandRun) => {
    const text = run.out.join('\n');
    return text.slice(text.indexOf('-----BEGIN PUBLIC KEY-----'), text.indexOf('-----END PUBLIC KEY-----') + '-----END PUBLIC KEY-----'.length);
  };

  it('writes the store key, operator key pair and dashboard token with private modes, into ./data by default', async () => {
    const run = await init();
    expect(run.code).toBe(0);
    const dir = join(tmp.path, 'data');
    const file = (name: string) => join(dir, name);
    expect(mode(dir)).toBe(0o700);
    expect(mode(file(INIT_FILES.storeKey))).toBe(0o600);
    expect(mode(file(INIT_FILES.privateKey))).toBe(0o600);
    expect(mode(file(INIT_FILES.dashboardToken))).toBe(0o600);
    expect(mode(file(INIT_FILES.publicKey)) & 0o022).toBe(0);

    expect(parseStoreKey(read(file(INIT_FILES.storeKey)), 'test')).toHaveLength(32);
    const dashboardToken = read(file(INIT_FILES.dashboardToken)).trim();
    expect(Buffer.from(dashboardToken, 'base64url')).toHaveLength(32);
    const privateKeyPem = read(file(INIT_FILES.privateKey));
    expect(detectKeyAlgorithm(privateKeyPem)).toBe('ecdsa-p256');

    // The public key on screen parses, is the pair of the private key, and equals the .pub file.
    const pem = printedPem(run);
    expect(createPublicKey(pem).type).toBe('public');
    expect(privateKeyMatchesPublicKey(privateKeyPem, pem)).toBe(true);
    expect(`${pem}\n`).toBe(read(file(INIT_FILES.publicKey)));

    // Nothing secret on screen: not the private key, not the store key, not the dashboard token.
    const screen = run.all;
    expect(screen).not.toContain('PRIVATE KEY');
    for (const line of privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----'))) expect(screen).not.toContain(line);
    expect(screen).not.toContain(read(file(INIT_FILES.storeKey)).trim());
    expect(screen).not.toContain(dashboardToken);
    expect(screen).toContain('DFNS_OPERATOR_CRED_ID');
    expect(screen).toMatch(/Auth:ServiceAccounts:Read, Auth:ServiceAccounts:Create, Auth:ServiceAccounts:Deactivate, Auth:ServiceAccounts:Delete, Auth:Pats:Create, Permissions:Assign/);
  });

  it('prints an env block that loads as a valid config once the Dfns ids are filled in', async () => {
    const run = await init(['--dir', 'secrets-here']);
    const env = Object.fromEntries(run.out.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.keys(env).sort()).toEqual([
      'DFNS_OPERATOR_CRED_ID', 'DFNS_OPERATOR_PRIVATE_KEY_FILE', 'DFNS_OPERATOR_USERNAME', 'DFNS_ORG_ID', 'DFNS_ROTATOR_DASHBOARD_TOKEN_FILE',
      'DFNS_ROTATOR_STORE_DIR', 'DFNS_ROTATOR_STORE_KEY_FILE', 'REDIS_URL',
    ]);
    expect(env.DFNS_OPERATOR_PRIVATE_KEY_FILE).toBe(join(tmp.path, 'secrets-here', INIT_FILES.privateKey));
    const config = loadConfig({
      env: { ...env, DFNS_ORG_ID: 'or-test', DFNS_OPERATOR_CRED_ID: 'cred-from-dfns' },
      readFile: (p) => readFileSync(p, 'utf8'),
      cwd: '/',
      needs: { server: true },
    });
    expect(config.operator).toMatchObject({ username: 'rotator@example.com', credId: 'cred-from-dfns', privateKey: { kind: 'value' } });
    expect(config.server.auth?.kind).toBe('token');
    expect(fileStoreDir(config.store)).toBe(join(tmp.path, 'secrets-here', 'secrets'));
  });

  it('refuses to overwrite existing files without --force, and overwrites them with it', async () => {
    await init();
    const dir = join(tmp.path, 'data');
    const before = Object.fromEntries(Object.values(INIT_FILES).map((f) => [f, read(join(dir, f))]));

    const again = await init();
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/store\.key, .*operator\.pem, .*operator\.pub\.pem, .*dashboard\.token already exist; nothing was written$/);
    expect(again.err[1]).toMatch(/--force/);
    expect(again.out).toEqual([]);
    for (const f of Object.values(INIT_FILES)) expect(read(join(dir, f))).toBe(before[f]);

    const forced = await init(['--force', '--algorithm', 'ed25519']);
    expect(forced.code).toBe(0);
    for (const f of Object.values(INIT_FILES)) expect(read(join(dir, f))).not.toBe(before[f]);
    expect(detectKeyAlgorithm(read(join(dir, INIT_FILES.privateKey)))).toBe('ed25519');
    expect(mode(join(dir, INIT_FILES.privateKey))).toBe(0o600);
    expect(mode(join(dir, INIT_FILES.storeKey))).toBe(0o600);
  });

  it('never replaces a store key while the store holds secrets encrypted with it, even with --force', async () => {
    await init();
    const dir = join(tmp.path, 'data');
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'payments%2Fbot.json'), '{}');
    const key = read(join(dir, INIT_FILES.storeKey));
    const run = await init(['--force']);
    expect(run.code).toBe(1);
    expect(run.err[0]).toMatch(/secrets holds 1 file encrypted with .*store\.key; replacing that key would make them unreadable$/);
    expect(read(join(dir, INIT_FILES.storeKey))).toBe(key);
  });

  it('refuses an unknown algorithm or flag as a usage error', async () => {
    await expect(init(['--algorithm', 'dsa'])).rejects.toThrow(ConfigError);
    await expect(init(['--algorithm', 'dsa'])).rejects.toThrow(/--algorithm: "dsa" is not one of ed25519, ecdsa-p256/);
    await expect(init(['--dir'])).rejects.toThrow(/usage: npx dfns-rotator init/);
  });
});
