import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCommand } from '../../src/commands/store.js';
import { SecretValue } from '../../src/config/secret-value.js';
import { createSecretStore } from '../../src/secrets/index.js';
import { addPending } from '../../src/secrets/stages.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { runCommand } from '../helpers/command-context.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { startStore, type RunningStore } from '../helpers/store-fixtures.js';

/** Issue 10: `store copy` moves every managed credential with its stages, from the file store to Vault. */
describe('dfns-rotator store copy', () => {
  let fx: Fixture;
  let vault: RunningStore;
  let source: SecretStore;
  let target: SecretStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'a-sa', held: true, ageDays: 10, daysValid: 90 }, { name: 'b-sa', held: true, ageDays: 10, daysValid: 90 }] });
    await fx.adopt('a-sa', 'sa/a');
    await fx.adopt('b-sa', 'team/b');
    source = fx.runtime().store;
    const b = (await source.get('team/b'))!;
    const staged = addPending(b, 'team/b', { ...b.versions[0]!.value, accessToken: null, credentialId: null }, { createdAt: 5, rotationId: 'rot-in-flight' });
    await source.put('team/b', staged.versions, b.revision);
    vault = await startStore('vault', { dir: fx.dir });
    target = vault.open();
    const { DFNS_ROTATOR_STORE: _kind, ...rest } = fx.env;
    env = { ...rest, VAULT_ADDR: vault.vault!.url, VAULT_TOKEN: vault.vault!.rootToken };
  });
  afterAll(async () => {
    await vault.close();
    await fx.close();
  });

  const copy = (argv: string[]) => runCommand(storeCommand, ['copy', '--from-store', 'file', '--to-store', 'vault', ...argv], { env, cwd: fx.dir });

  it('copies every credential with all its versions and stages, and a consumer reads it from Vault', async () => {
    const run = await copy([]);
    expect(run.code).toBe(0);
    const text = run.out.join('\n');
    expect(text).toMatch(/^from: file .* \(encrypted\)$/m);
    expect(text).toMatch(/^to: {3}vault http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/dfns-rotator\/…$/m);
    expect(text).toMatch(/copied\s+sa\/a\s+v1:current/);
    expect(text).toMatch(/copied\s+team\/b\s+v1:current v2:pending/);
    expect(text).toContain('2 copied, 0 replaced, 0 unchanged, 0 skipped, 0 failed');
    expect(run.err.join('\n')).toContain('team/b had a rotation in flight');
    for (const name of ['sa/a', 'team/b']) expect((await target.get(name))!.versions).toEqual((await source.get(name))!.versions);
    const res = await fetch(`${vault.vault!.url}/v1/secret/data/dfns-rotator/sa/a`, { headers: { 'X-Vault-Token': vault.vault!.rootToken } });
    expect(((await res.json()) as { data: { data: { accessToken: string } } }).data.data.accessToken).toBe(fx.sim.seededTokens.get('a-sa'));
    expect(run.all).not.toMatch(/PRIVATE KEY|eyJ/);
  });

  it('reports identical secrets unchanged, refuses to overwrite different ones without --replace, and replaces with it', async () => {
    expect((await copy([])).out.join('\n')).toContain('0 copied, 0 replaced, 2 unchanged');
    const theirs = (await target.get('sa/a'))!;
    await target.put('sa/a', theirs.versions.map((v) => ({ ...v, metadata: { ...v.metadata, note: 'edited in vault' } })), theirs.revision);

    const refused = await copy([]);
    expect(refused.code).toBe(1);
    expect(refused.out.join('\n')).toMatch(/skipped\s+sa\/a\s+v1:current\s+exists in the target with other versions \(pass --replace to overwrite it\)/);
    expect(((await target.get('sa/a'))!.versions[0]!.metadata as unknown as Record<string, unknown>).note).toBe('edited in vault');

    const json = await copy(['--replace', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out.join('\n')) as { counts: Record<string, number>; secrets: { name: string; action: string }[] };
    expect(report.counts).toMatchObject({ replaced: 1, unchanged: 1 });
    expect(report.secrets.find((s) => s.name === 'sa/a')?.action).toBe('replaced');
    expect((await target.get('sa/a'))!.versions).toEqual((await source.get('sa/a'))!.versions);
  });

  it('writes nothing in a dry run, and copies chosen secrets only', async () => {
    const other = createSecretStore({ ...(vault.settings as Extract<typeof vault.settings, { kind: 'vault' }>), pathPrefix: 'elsewhere/', auth: { method: 'token', token: new SecretValue(vault.vault!.rootToken, 'test') } });
    const dry = await runCommand(storeCommand, ['copy', '--from-store', 'file', '--to-store', 'vault', '--dry-run', '--secret', 'sa/a'], { env: { ...env, DFNS_ROTATOR_VAULT_PATH_PREFIX: 'elsewhere/' }, cwd: fx.dir });
    expect(dry.code).toBe(0);
    expect(dry.out.join('\n')).toContain('(dry run: nothing written)');
    expect(dry.out.join('\n')).toContain('1 copied');
    expect(await other.list()).toEqual([]);
  });

  it('takes the target from a config file, and refuses a copy onto the same store', async () => {
    const file = fx.writeFile('vault.yaml', `dfns:\n  baseUrl: ${fx.sim.url}\n  orgId: ${fx.sim.orgId}\nstore:\n  kind: vault\n  vault:\n    address: ${vault.vault!.url}\n    pathPrefix: from-file/\n    auth:\n      token: { env: VAULT_TOKEN }\n`);
    const { VAULT_ADDR: _a, ...noAddr } = env;
    const run = await runCommand(storeCommand, ['copy', '--from-store', 'file', '--to-config', file], { env: noAddr, cwd: fx.dir });
    expect(run.code).toBe(0);
    expect(run.out.join('\n')).toMatch(/to: {3}vault .*\/from-file\/…/);
    await expect(runCommand(storeCommand, ['copy', '--from-store', 'file', '--to-store', 'file'], { env, cwd: fx.dir })).rejects.toThrow(/the two configs name the same store/);
    await expect(runCommand(storeCommand, ['copy', '--to-store', 'redis'], { env, cwd: fx.dir })).rejects.toThrow(/--to-store: unknown store kind "redis"/);
  });
});
