import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../src/commands/plan.js';
import { ConfigError } from '../../src/errors.js';
import type { InventoryItem } from '../../src/model.js';
import { freePort } from '../../src/redis/private-redis.js';
import { dataFileName } from '../../src/secrets/file-names.js';
import { parseTable, runCommand, type CommandRun } from '../helpers/command-context.js';
import { OPERATOR, startFixture, type Fixture } from '../helpers/daemon-fixture.js';

/**
 * `dfns-rotator plan`: a dry-run scan printed as a table (or JSON), against the simulator, with
 * REDIS_URL pointing at a port nobody listens on: the plan must not need Redis.
 */
describe('plan command', () => {
  let fx: Fixture;
  let env: Record<string, string>;

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay-held', held: true, ageDays: 355, daysValid: 365 },
        { name: 'ledger-held', held: true, ageDays: 10, daysValid: 365 },
        { name: 'legacy-unheld', ageDays: 705 },
        { name: 'gone-unheld', ageDays: 740 },
        { name: 'ok-unheld', ageDays: 100 },
        { name: 'off', ageDays: 400, isActive: false },
        { name: 'noexp-held', held: true, noExpiry: true, ageDays: 50 },
      ],
      pats: [{ name: 'op-ci', owner: OPERATOR, held: true, ageDays: 27, daysValid: 30 }],
    });
    for (const name of ['pay-held', 'ledger-held', 'noexp-held']) await fx.adopt(name, `sa/${name}`);
    await fx.adopt('op-ci', 'pat/op-ci', 'pat');
    env = { ...fx.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  });

  afterAll(async () => {
    await fx.close();
  });

  const plan = (argv: string[] = [], extra: { env?: Record<string, string>; interactive?: boolean; columns?: number } = {}) =>
    runCommand(planCommand, argv, { env: extra.env ?? env, cwd: fx.dir, clock: fx.sim.clock, ...(extra.interactive ? { interactive: true } : {}), ...(extra.columns ? { columns: extra.columns } : {}) });

  function expectNoSecrets(run: CommandRun): void {
    for (const token of fx.sim.seededTokens.values()) expect(run.all).not.toContain(token);
    expect(run.all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}|PRIVATE KEY|BEGIN /);
    for (const held of fx.keys.values()) expect(run.all).not.toContain(held.key.privateKeyPem.split('\n')[1]!);
  }

  it('prints every credential most urgent first, exact or estimated, with what happens next', async () => {
    const run = await plan();
    expect(run.code).toBe(0);
    const tableEnd = run.out.indexOf('');
    const rows = parseTable(run.out.slice(0, tableEnd));
    expect(run.out[0]).toMatch(/^STATE\s+KIND\s+NAME\s+ID\s+OWNER\s+EXPIRES\s+MANAGED\/STRATEGY\s+ACTION$/);
    expect(rows.map((r) => [r.STATE, r.NAME])).toEqual([
      ['expired', 'gone-unheld'],
      ['rotate', 'op-ci'],
      ['rotate', 'pay-held'],
      ['warn', 'legacy-unheld'],
      ['unknown', 'noexp-held'],
      ['ok', 'ledger-held'],
      ['ok', 'ok-unheld'],
      ['inactive', 'off'],
    ]);
    const byName = Object.fromEntries(rows.map((r) => [r.NAME, r]));
    // Token expiries are JWT `exp` seconds (rounded down), estimates are exact milliseconds.
    const day = (offsetDays: number) => new Date(Math.floor((fx.sim.clock.now() + offsetDays * 86_400_000) / 1000) * 1000).toISOString().slice(0, 10);

    expect(byName['pay-held']).toMatchObject({ KIND: 'sa', OWNER: '-', EXPIRES: `${day(10)} (in 9 days)`, 'MANAGED/STRATEGY': 'yes/replace' });
    expect(byName['pay-held']!.ACTION).toMatch(/^would queue a replace rotation: expires in 9 days, inside the 14-day rotation window$/);
    expect(byName['legacy-unheld']).toMatchObject({ EXPIRES: `${day(25)} (in 25 days) ~ estimated`, 'MANAGED/STRATEGY': 'no/notify' });
    expect(byName['legacy-unheld']!.ACTION).toContain('dfns-rotator adopt');
    expect(byName['gone-unheld']!.EXPIRES).toBe(`${day(-10)} (10 days ago) ~ estimated`);
    expect(byName['noexp-held']).toMatchObject({ EXPIRES: 'unknown', 'MANAGED/STRATEGY': 'yes/replace' });
    expect(byName['noexp-held']!.ACTION).toContain("its token has no exp, so its expiry is unknown: rotate it onto a dated token (`npx dfns-rotator rotate sa/noexp-held --reason 'token has no known expiry'`");
    expect(byName['op-ci']).toMatchObject({ KIND: 'pat', OWNER: OPERATOR, EXPIRES: `${day(3)} (in 2 days)`, 'MANAGED/STRATEGY': 'yes/replace' });
    expect(byName['ok-unheld']).toMatchObject({ EXPIRES: `${day(630)} (in 630 days) ~ estimated`, ACTION: '' });
    expect(byName.off!.ID).toMatch(/^us-/);

    expect(run.out.slice(tableEnd + 1)).toEqual(['8 credentials: expired 1, rotate 2, warn 1, unknown 1, ok 2, inactive 1; a scan would queue 2 rotations']);
    // Not a terminal: no progress lines, and the scan's own info log stays out of the way.
    expect(run.err).toEqual([]);
    expect(run.logs.join('')).not.toContain('scan finished');
    expectNoSecrets(run);
  });

  it('prints {summary, items} as JSON with --json', async () => {
    const run = await plan(['--json']);
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    const { summary, items } = JSON.parse(run.out[0]!) as { summary: Record<string, unknown>; items: InventoryItem[] };
    expect(summary).toMatchObject({ total: 8, dryRun: true, rotationsPlanned: 2, rotationsQueued: 0, notificationsQueued: 0, errors: [] });
    expect(summary.counts).toEqual({ expired: 1, rotate: 2, warn: 1, unknown: 1, ok: 2, inactive: 1 });
    expect(items.map((i) => i.name)).toEqual(['gone-unheld', 'op-ci', 'pay-held', 'legacy-unheld', 'noexp-held', 'ledger-held', 'ok-unheld', 'off']);
    expect(items.find((i) => i.name === 'legacy-unheld')).toMatchObject({ expirySource: 'estimate', managed: false, state: 'warn', daysLeft: 25 });
    expect(items.find((i) => i.name === 'pay-held')).toMatchObject({ expirySource: 'token', managed: true, secretName: 'sa/pay-held' });
    expectNoSecrets(run);
  });

  it('exits 1 with --fail-on when a credential is in one of the states, 0 otherwise', async () => {
    const failing = await plan(['--fail-on', 'expired,rotate']);
    expect(failing.code).toBe(1);
    expect(failing.err).toEqual([expect.stringMatching(/^--fail-on expired,rotate: 1 expired, 2 rotate \(gone-unheld, op-ci, pay-held\)$/)]);
    // The table is still printed: CI logs show why.
    expect(failing.out[0]).toMatch(/^STATE/);

    const json = await plan(['--json', '--fail-on', 'inactive']);
    expect(json.code).toBe(1);

    const passing = await plan(['--fail-on', 'error']);
    expect(passing.code).toBe(0);
    expect(passing.err).toEqual([]);
  });

  it('lists an unreadable store file first, in state error, and keeps classifying the rest', async () => {
    const dir = fx.config.store.kind === 'file' ? fx.config.store.dir : '';
    const file = join(dir, dataFileName('sa/damaged'));
    writeFileSync(file, 'not an envelope', { mode: 0o600 });
    try {
      const run = await plan();
      expect(run.code).toBe(0);
      const rows = parseTable(run.out.slice(0, run.out.indexOf('')));
      expect(rows[0]).toMatchObject({ STATE: 'error', KIND: 'secret', NAME: 'sa/damaged', EXPIRES: 'unknown', 'MANAGED/STRATEGY': 'not read' });
      expect(rows[0]!.ACTION).toContain('restore this secret\'s file from a backup of the store folder');
      expect(rows.find((r) => r.NAME === 'pay-held')).toMatchObject({ STATE: 'rotate' });
      expect(run.out).toContain('1 unreadable secret in the store (state error above): its credential is watched as unmanaged and not rotated until repaired');
      const json = JSON.parse((await plan(['--json'])).out[0]!) as { summary: { damaged: { secretName: string }[] } };
      expect(json.summary.damaged.map((d) => d.secretName)).toEqual(['sa/damaged']);
      const failing = await plan(['--fail-on', 'error']);
      expect(failing.code).toBe(1);
      expect(failing.err.at(-1)).toMatch(/1 unreadable secret in the store/);
    } finally {
      rmSync(file);
    }
  });

  it('refuses an unknown --fail-on state as a usage error', async () => {
    await expect(plan(['--fail-on', 'expired,soon'])).rejects.toThrow(ConfigError);
    await expect(plan(['--fail-on', 'expired,soon'])).rejects.toThrow(/--fail-on: unknown state "soon"[\s\S]*usage: npx dfns-rotator plan/);
    await expect(plan(['--verbose'])).rejects.toThrow(/Unknown option '--verbose'/);
  });

  it('lists identity errors clearly and keeps going with the identities that work', async () => {
    // The deactivated SA's token: Dfns answers 401, so the watcher cannot list; the operator can.
    const withWatcher = { ...env, DFNS_WATCHER_TOKEN: fx.sim.seededTokens.get('off')! };
    const run = await plan([], { env: withWatcher });
    expect(run.code).toBe(0);
    const summary = run.out.slice(run.out.indexOf('') + 1);
    expect(summary[0]).toMatch(/^8 credentials:/);
    expect(summary).toContainEqual(expect.stringMatching(/^1 identity error/));
    expect(summary).toContainEqual(expect.stringMatching(/^ {2}watcher: listing service accounts: .*401/));
    // The watcher token's own SA is flagged as the worker's identity.
    expect(parseTable(run.out.slice(0, run.out.indexOf(''))).find((r) => r.NAME === 'off')!.STATE).toBe('inactive*');
    expectNoSecrets(run);

    const strict = await plan(['--fail-on', 'error'], { env: withWatcher });
    expect(strict.code).toBe(1);
    expect(strict.err).toEqual(['--fail-on error: 1 identity error']);
  });

  it('fails with exit 1 when no identity can list, and reads a missing store folder as empty', async () => {
    // No stored PAT either (a stored PAT's token would still list its owner's PATs).
    const missing = join(fx.dir, 'not-mounted');
    const run = await plan([], { env: { ...env, DFNS_OPERATOR_CRED_ID: 'not-registered', DFNS_ROTATOR_STORE_DIR: missing } });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([
      `note: the secret store folder ${missing} does not exist: no credential is managed yet (is the volume mounted?)`,
      expect.stringMatching(/^plan failed: no identity could list credentials: operator .*listing service accounts: .*not-registered/),
    ]);
    expect(run.out).toEqual([]);
    expect(existsSync(missing)).toBe(false);
  });

  it('shows progress on stderr and fits the terminal when interactive', async () => {
    const run = await plan([], { interactive: true, columns: 170 });
    expect(run.code).toBe(0);
    expect(run.err).toEqual([
      `logging in as operator ${OPERATOR}…`,
      `listing service accounts as operator ${OPERATOR}…`,
      `listing personal access tokens as operator ${OPERATOR}…`,
    ]);
    for (const line of run.out) expect(line.length).toBeLessThanOrEqual(170);
    const rows = parseTable(run.out.slice(0, run.out.indexOf('')));
    expect(rows.find((r) => r.NAME === 'legacy-unheld')!.ACTION).toMatch(/…$/);
    expect(rows.find((r) => r.NAME === 'legacy-unheld')!.EXPIRES).toContain('~ estimated');
  });
});
