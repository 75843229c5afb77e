import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyCommand } from '../../src/commands/history.js';
import { ConfigError } from '../../src/errors.js';
import type { AuditEntry } from '../../src/jobs/state/audit.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { freePort } from '../../src/redis/private-redis.js';
import { parseTable, runCommand } from '../helpers/command-context.js';
import { runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * `dfns-rotator history`: the audit log as a table, newest first, or one rotation's story oldest
 * first; filtered by secret; as JSON; with clear errors for a bad id or an unreachable Redis.
 */
describe('history command', () => {
  let fx: Fixture;
  let rt: Runtime;
  let rotationId: string;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({ serviceAccounts: [{ name: 'pay', held: true, ageDays: 300, daysValid: 365, permission: 'Reader' }] });
    rt = fx.runtime({ actor: 'worker:test-host:1' });
    await fx.adopt('pay', 'sa/pay');
    rt.startWorkers();
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/pay', reason: 'history test', requestedBy: 'cli:alice' });
    rotationId = result.rotationId;
    // Entries about another secret, written after the rotation (so they are the newest).
    const at = fx.sim.clock.now();
    await rt.audit.record({ at: at + 1000, actor: 'dashboard', action: 'scan requested', outcome: 'info', detail: 'manual scan' });
    await rt.audit.record({ at: at + 2000, actor: 'cli:bob', action: 'requested', outcome: 'info', secretName: 'sa/other', rotationId: ulid(at), detail: 'replace: test' });
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const history = (argv: string[], env: Record<string, string> = fx.env) => runCommand(historyCommand, argv, { env, cwd: fx.dir, clock: fx.sim.clock });

  it('tells one rotation as a story, oldest first, with every column', async () => {
    const run = await history(['--rotation', rotationId]);
    expect(run.code).toBe(0);
    const rows = parseTable(run.out);
    expect(rows.map((r) => r.ACTION)).toEqual(['planned', 'staged', 'create-begun', 'created', 'verified', 'promoted', 'announced', 'retire-scheduled']);
    expect(rows[0]).toEqual({
      'TIME (UTC)': expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      ACTOR: 'worker:test-host:1',
      ACTION: 'planned',
      OUTCOME: 'ok',
      SECRET: 'sa/pay',
      ROTATION: rotationId,
      STEP: 'planned',
      DETAIL: expect.stringMatching(/^replace of us-\S+ \(pay\): history test$/),
    });
    const times = rows.map((r) => r['TIME (UTC)']!);
    expect([...times].sort()).toEqual(times);
    expect(rows.at(-1)).toMatchObject({ STEP: 'retire-scheduled', OUTCOME: 'ok' });
  });

  it('lists everything newest first, limited, with a note when the limit cut it', async () => {
    const run = await history(['--limit', '3']);
    expect(run.code).toBe(0);
    const rows = parseTable(run.out.slice(0, -1));
    expect(rows.map((r) => [r.ACTOR, r.ACTION, r.SECRET, r.ROTATION])).toEqual([
      ['cli:bob', 'requested', 'sa/other', expect.stringMatching(/^[0-9A-Z]{26}$/)],
      ['dashboard', 'scan requested', '-', '-'],
      ['worker:test-host:1', 'retire-scheduled', 'sa/pay', rotationId],
    ]);
    expect(run.out.at(-1)).toBe('(the 3 most recent entries; --limit N shows more)');
  });

  it('filters by secret and prints JSON', async () => {
    const run = await history(['--secret', 'sa/other', '--json']);
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    const entries = JSON.parse(run.out[0]!) as AuditEntry[];
    expect(entries).toEqual([expect.objectContaining({ actor: 'cli:bob', action: 'requested', secretName: 'sa/other', detail: 'replace: test' })]);
  });

  it('says so when nothing matches', async () => {
    const other = ulid(fx.sim.clock.now());
    const run = await history(['--rotation', other, '--secret', 'sa/pay']);
    expect(run.code).toBe(0);
    expect(run.out).toEqual([`no audit entries for rotation ${other} and secret "sa/pay"`]);
  });

  it('rejects a malformed rotation id and a bad limit, naming both', async () => {
    const err = await history(['--rotation', 'not-an-id', '--limit', '0']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/--rotation: "not-an-id" is not a rotation id[\s\S]*--limit: must be an integer 1\.\.10000, got "0"/);
  });

  it('exits 1 when Redis cannot be reached', async () => {
    const port = await freePort();
    const run = await history([], { ...fx.env, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port} `))]);
  });
});
