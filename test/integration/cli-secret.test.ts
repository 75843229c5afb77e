import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretCommand } from '../../src/commands/secret.js';
import { runCommand } from '../helpers/command-context.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';

/** How a consuming service gets the credential: `secret get` to a pipe, `secret list` for people. */
describe('dfns-rotator secret', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'consumer-sa', held: true, ageDays: 10, daysValid: 90 }] });
    await fx.adopt('consumer-sa', 'apps/consumer');
  });
  afterAll(() => fx.close());

  const run = (argv: string[], interactive = false) => runCommand(secretCommand, argv, { env: fx.env, cwd: fx.dir, interactive });

  it('lists managed secrets without any value', async () => {
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/apps\/consumer\s+service-account\s+us-\S+\s+20\d\d-\d\d-\d\dT\S+Z\s+v1:current/);
    expect(r.all).not.toMatch(/PRIVATE KEY|eyJhbGci/);
  });

  it('prints one field, or all as JSON, to a pipe', async () => {
    const token = await run(['get', 'apps/consumer', '--field', 'access-token']);
    expect(token.out).toEqual([fx.sim.seededTokens.get('consumer-sa')]);
    const json = JSON.parse((await run(['get', 'apps/consumer'])).out[0]!) as Record<string, string>;
    expect(json).toMatchObject({ kind: 'service-account', credId: 'key-consumer-sa', orgId: fx.sim.orgId, baseUrl: fx.sim.url });
    expect(json.privateKey).toBe(fx.keys.get('consumer-sa')!.key.privateKeyPem);
  });

  it('--format env is shell that gives back every value exactly, the multi-line PEM included', async () => {
    const r = await run(['get', 'apps/consumer', '--format', 'env']);
    expect(r.code).toBe(0);
    const script = `${r.out.join('\n')}\nprintf '%s\\n--\\n' "$DFNS_API_URL" "$DFNS_ORG_ID" "$DFNS_AUTH_TOKEN" "$DFNS_CRED_ID" "$DFNS_PRIVATE_KEY"`;
    const printed = execFileSync('sh', ['-c', script], { encoding: 'utf8', env: {} }).split('\n--\n');
    expect(printed.slice(0, 5)).toEqual([fx.sim.url, fx.sim.orgId, fx.sim.seededTokens.get('consumer-sa'), 'key-consumer-sa', fx.keys.get('consumer-sa')!.key.privateKeyPem.trimEnd()]);
  });

  it('--format dotenv writes one line per variable, the PEM with \\n escapes', async () => {
    const lines = (await run(['get', 'apps/consumer', '--format', 'dotenv'])).out.join('\n').split('\n');
    expect(lines.map((l) => l.split('=')[0])).toEqual(['DFNS_API_URL', 'DFNS_ORG_ID', 'DFNS_AUTH_TOKEN', 'DFNS_CRED_ID', 'DFNS_PRIVATE_KEY']);
    const key = /^DFNS_PRIVATE_KEY="(.*)"$/.exec(lines[4]!)![1]!;
    expect(key.replace(/\\n/g, '\n')).toBe(fx.keys.get('consumer-sa')!.key.privateKeyPem.trimEnd());
    const json = JSON.parse((await run(['get', 'apps/consumer', '--format', 'json'])).out[0]!) as { format: string; metadata: { versionId: number } };
    expect(json).toMatchObject({ format: 'dfns-rotator/credential/v1', metadata: { versionId: 1 } });
    const bad = await run(['get', 'apps/consumer', '--format', 'yaml']).catch((e: Error) => e);
    expect(String(bad)).toMatch(/--format: "yaml" is not json, env or dotenv/);
  });

  it('refuses to print a secret to a terminal unless asked to', async () => {
    const refused = await run(['get', 'apps/consumer', '--field', 'private-key'], true);
    expect(refused.code).toBe(1);
    expect(refused.err.join('\n')).toMatch(/refusing to print apps\/consumer's private-key to a terminal/);
    expect(refused.all).not.toContain('PRIVATE KEY');
    const shown = await run(['get', 'apps/consumer', '--field', 'cred-id', '--show'], true);
    expect(shown.out).toEqual(['key-consumer-sa']);
  });

  it('says clearly what is missing', async () => {
    expect((await run(['get', 'apps/nope'])).err).toEqual(['secret get: no current version of "apps/nope"']);
    await expect(run(['get'])).rejects.toThrow(/expected `secret list`, `secret get NAME` or `secret sync NAME --out FILE`/);
    await expect(run(['get', 'apps/consumer', '--field', 'password'])).rejects.toThrow(/--field: unknown field "password"/);
  });
});
