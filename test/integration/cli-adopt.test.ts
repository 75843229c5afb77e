import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import { adoptCommand } from '../../src/commands/adopt.js';
import { planCommand } from '../../src/commands/plan.js';
import { readTokenExpiry, readTokenIdentity } from '../../src/dfns/jwt.js';
import { ConfigError } from '../../src/errors.js';
import { freePort } from '../../src/redis/private-redis.js';
import { createSecretStore, fileStoreDir, parseStoreKey, type SecretStore } from '../../src/secrets/index.js';
import { parseTable, runCommand, type CommandRun } from '../helpers/command-context.js';
import { OPERATOR, startFixture, type Fixture } from '../helpers/daemon-fixture.js';

/**
 * `dfns-rotator adopt`: an existing credential's token and key, given as files, are checked
 * against the simulator and stored; anything that does not check out is refused with a clear
 * message and nothing written. Redis is down throughout: adopting must not need it.
 */
describe('adopt command', () => {
  let fx: Fixture;
  let env: Record<string, string>;
  let store: SecretStore;

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'sa-a', held: true, ageDays: 100, daysValid: 365 },
        { name: 'sa-b', held: true, ageDays: 5, daysValid: 365 },
        { name: 'sa-short', held: true, ageDays: 29, daysValid: 30 },
      ],
      pats: [{ name: 'pat-a', owner: OPERATOR, held: true, ageDays: 3, daysValid: 60 }],
    });
    env = { ...fx.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    for (const [name, held] of fx.keys) {
      writeFileSync(join(fx.dir, `${name}.token`), `${fx.sim.seededTokens.get(name)!}\n`, { mode: 0o600 });
      writeFileSync(join(fx.dir, `${name}.pem`), held.key.privateKeyPem, { mode: 0o600 });
    }
    store = createSecretStore({ kind: 'file', dir: fileStoreDir(fx.config.store), key: parseStoreKey(env.DFNS_ROTATOR_STORE_KEY!, 'test') });
  });

  afterAll(async () => {
    await fx.close();
  });

  const adopt = (argv: string[], stdin?: string) =>
    runCommand(adoptCommand, argv, { env, cwd: fx.dir, clock: fx.sim.clock, ...(stdin !== undefined ? { stdin } : {}) });
  const idOf = (name: string) => readTokenIdentity(fx.sim.seededTokens.get(name)!);
  const expiryOf = (name: string) => {
    const e = readTokenExpiry(fx.sim.seededTokens.get(name)!);
    if (e.kind !== 'expires') throw new Error('seeded token without exp');
    return e.expiresAt;
  };

  function expectNoSecrets(run: CommandRun): void {
    for (const token of fx.sim.seededTokens.values()) expect(run.all).not.toContain(token);
    expect(run.all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}|PRIVATE KEY/);
  }

  async function expectRefused(run: CommandRun, message: RegExp, secretName: string, revisionBefore: number | null = null): Promise<void> {
    expect(run.code).toBe(1);
    expect(run.err.slice(-2)).toEqual([expect.stringMatching(message), 'nothing was written to the store']);
    expect(run.out).toEqual([]);
    expect((await store.get(secretName))?.revision ?? null).toBe(revisionBefore);
    expectNoSecrets(run);
  }

  it('adopts a held service account and prints its exact expiry, then plan shows it managed', async () => {
    const run = await adopt(['--secret', 'sa/a', '--kind', 'service-account', '--token-file', 'sa-a.token', '--key-file', 'sa-a.pem']);
    expect(run.code).toBe(0);
    const id = idOf('sa-a').userId!;
    const exp = new Date(expiryOf('sa-a')).toISOString();
    expect(run.out).toEqual([
      `adopted service account "sa-a" (${id}) as secret "sa/a", version 1`,
      `expires: ${exp} (in 264 days), exact, from the token`,
      'configured strategy: replace; `npx dfns-rotator plan` shows it as managed, and what the worker will do',
      'the token and key are now in the encrypted store: delete the plaintext copies (sa-a.token, sa-a.pem)',
    ]);
    expect(run.err).toEqual([]);
    expectNoSecrets(run);
    const stored = await store.get('sa/a');
    expect(stored!.versions[0]).toMatchObject({ stages: ['current'], metadata: { credentialId: id, credId: 'key-sa-a', expiresAt: expiryOf('sa-a') } });

    const plan = await runCommand(planCommand, [], { env, cwd: fx.dir, clock: fx.sim.clock });
    const row = parseTable(plan.out.slice(0, plan.out.indexOf(''))).find((r) => r.NAME === 'sa-a')!;
    expect(row).toMatchObject({ ID: id, EXPIRES: `${exp.slice(0, 10)} (in 264 days)`, 'MANAGED/STRATEGY': 'yes/replace' });
  });

  it('adopts a PAT whose token comes from stdin', async () => {
    const run = await adopt(['--secret', 'pat/a', '--kind', 'pat', '--token-file', '-', '--key-file', 'pat-a.pem', '--cred-id', 'key-pat-a'], fx.sim.seededTokens.get('pat-a')!);
    expect(run.code).toBe(0);
    expect(run.out[0]).toBe(`adopted personal access token "pat-a" (${idOf('pat-a').tokenId}) as secret "pat/a", version 1`);
    expect(run.out[1]).toBe(`expires: ${new Date(expiryOf('pat-a')).toISOString()} (in 56 days), exact, from the token`);
    expect(run.out[3]).toBe('the token and key are now in the encrypted store: delete the plaintext copy (pat-a.pem)');
    expectNoSecrets(run);
    const plan = await runCommand(planCommand, ['--json'], { env, cwd: fx.dir, clock: fx.sim.clock });
    const items = (JSON.parse(plan.out[0]!) as { items: { name: string; managed: boolean; expirySource: string; expiresAt: number }[] }).items;
    expect(items.find((i) => i.name === 'pat-a')).toMatchObject({ managed: true, expirySource: 'token', expiresAt: expiryOf('pat-a') });
  });

  it('refuses a key that is not the credential\'s', async () => {
    const run = await adopt(['--secret', 'sa/b', '--kind', 'service-account', '--token-file', 'sa-b.token', '--key-file', 'sa-a.pem']);
    await expectRefused(run, /^adopt refused: Dfns did not accept a user action signed with this key as credential key-sa-b of this token: /, 'sa/b');
  });

  it('refuses a token of another credential', async () => {
    const run = await adopt(['--secret', 'sa/b', '--kind', 'service-account', '--token-file', 'sa-a.token', '--key-file', 'sa-a.pem', '--id', idOf('sa-b').userId!]);
    await expectRefused(run, new RegExp(`^adopt refused: the token belongs to ${idOf('sa-a').userId}, not ${idOf('sa-b').userId}$`), 'sa/b');
  });

  it('refuses a token file that holds no token', async () => {
    writeFileSync(join(fx.dir, 'garbage.token'), 'paste-your-token-here\n');
    chmodSync(join(fx.dir, 'garbage.token'), 0o644);
    const run = await adopt(['--secret', 'sa/b', '--kind', 'service-account', '--token-file', 'garbage.token', '--key-file', 'sa-b.pem']);
    await expectRefused(run, /^adopt refused: the access token is not a JWT: expected 3 dot-separated parts, found 1$/, 'sa/b');
    // A plaintext secret other users can read is flagged.
    expect(run.err[0]).toBe(`warning: ${join(fx.dir, 'garbage.token')} is readable by other users; delete it once adopted`);
  });

  it('refuses to overwrite an existing secret without --replace, and replaces it with', async () => {
    const before = (await store.get('sa/a'))!.revision;
    const args = ['--secret', 'sa/a', '--kind', 'service-account', '--token-file', 'sa-b.token', '--key-file', 'sa-b.pem'];
    const run = await adopt(args);
    await expectRefused(run, /^adopt refused: secret "sa\/a" already exists; pass --replace to make this credential its current version$/, 'sa/a', before);

    const replaced = await adopt([...args, '--replace']);
    expect(replaced.code).toBe(0);
    expect(replaced.out[0]).toBe(`adopted service account "sa-b" (${idOf('sa-b').userId}) as secret "sa/a", version 2`);
    const versions = (await store.get('sa/a'))!.versions;
    expect(versions.map((v) => [v.versionId, v.stages])).toEqual([[1, ['previous']], [2, ['current']]]);
  });

  it('refuses bad flags as usage errors, and never takes a token as a flag value', async () => {
    const token = fx.sim.seededTokens.get('sa-b')!;
    const asFlag = adopt(['--secret', 'x', '--kind', 'pat', `--token=${token}`, '--key-file', 'sa-b.pem']);
    await expect(asFlag).rejects.toThrow(ConfigError);
    await expect(adopt(['--token', token])).rejects.toThrow(/--token: tokens and keys are never taken as flag values[\s\S]*usage: npx dfns-rotator adopt/);
    await adopt(['--token', token]).catch((err: Error) => expect(err.message).not.toContain(token));
    await expect(adopt(['--kind', 'robot', '--key-file', 'x'])).rejects.toThrow(/--secret: required[\s\S]*--token-file: required[\s\S]*--kind: "robot" is not service-account or pat/);
    await expect(adopt(['--secret', 's', '--kind', 'service-account', '--token-file', 't', '--key-file', 'k', '--id', 'to-123'])).rejects.toThrow(/--id to-123 is a token id/);
    await expect(adopt(['--secret', 's', '--kind', 'pat', '--token-file', 'missing.token', '--key-file', 'sa-b.pem'])).rejects.toThrow(/--token-file: cannot read .*missing\.token \(ENOENT\)/);
  });

  it('refuses an expired token (checked on the simulator clock)', async () => {
    fx.sim.clock.advance(2 * DAY_MS);
    const run = await adopt(['--secret', 'sa/short', '--kind', 'service-account', '--token-file', 'sa-short.token', '--key-file', 'sa-short.pem']);
    await expectRefused(run, new RegExp(`^adopt refused: the access token expired at ${new Date(expiryOf('sa-short')).toISOString().replace(/\./g, '\\.')}$`), 'sa/short');
  });
});
