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
    await expect(run(['get'])).rejects.toThrow(/expected `secret list` or `secret get NAME`/);
    await expect(run(['get', 'apps/consumer', '--field', 'password'])).rejects.toThrow(/--field: unknown field "password"/);
  });
});
