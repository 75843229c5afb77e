import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateCommand } from '../../src/commands/rotate.js';
import { ConfigError } from '../../src/errors.js';
import { jobIds } from '../../src/jobs/queues/ids.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { freePort } from '../../src/redis/private-redis.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { runCommand, type CommandRun } from '../helpers/command-context.js';
import { startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

const ULID = '[0-9A-HJKMNP-TV-Z]{26}';

/**
 * `dfns-rotator rotate`: a manual rotation is checked against the store, queued once per secret
 * (a second request names the one already waiting), followed step by step with --wait against
 * a daemon's workers, and refused clearly when the credential is unknown, the rotation is parked
 * or Redis is down.
 */
describe('rotate command', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 300, daysValid: 365, permission: 'Reader' },
        { name: 'ledger', held: true, ageDays: 300, daysValid: 365, permission: 'Reader' },
        { name: 'approvals', held: true, ageDays: 300, daysValid: 365 },
      ],
    });
    rt = fx.runtime();
    await fx.adopt('pay', 'sa/pay');
    await fx.adopt('ledger', 'sa/ledger');
    await fx.adopt('approvals', 'sa/approvals');
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const rotate = (argv: string[], env: Record<string, string> = fx.env) => runCommand(rotateCommand, argv, { env, cwd: fx.dir, clock: fx.sim.clock });

  async function current(secret: string) {
    return versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
  }

  function expectNoSecrets(run: CommandRun): void {
    for (const token of fx.sim.seededTokens.values()) expect(run.all).not.toContain(token);
    expect(run.all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}|PRIVATE KEY/);
  }

  it('queues one rotation, and a second request while it waits names that one instead', async () => {
    const first = await rotate(['sa/pay', '--reason', 'suspected leak in CI logs']);
    expect(first.code).toBe(0);
    const [queuedLine, followLine] = first.out;
    const id = new RegExp(`^queued rotation (${ULID}) of "sa/pay"$`).exec(queuedLine ?? '')?.[1];
    expect(id).toBeDefined();
    expect(followLine).toBe(`follow it: npx dfns-rotator history --rotation ${id}`);
    // No daemon runs yet: the person is told the job waits for one.
    expect(first.err).toEqual([expect.stringMatching(/^note: no worker is connected to the rotate queue/)]);

    const jobs = await rt.queues.rotate.getJobs(['waiting']);
    expect(jobs.map((j) => j.id)).toEqual([jobIds.rotate(id!)]);
    expect(jobs[0]!.data).toMatchObject({ credential: 'sa/pay', rotationId: id, reason: 'suspected leak in CI logs', requestedBy: expect.stringMatching(/^cli:.+/) });

    // The same secret named by its Dfns id: resolved, recognised, not queued twice.
    const saId = (await current('sa/pay')).value.credentialId!;
    const second = await rotate([`sa:${saId}`, '--reason', 'asked twice', '--strategy', 'rekey']);
    expect(second.code).toBe(0);
    expect(second.out).toEqual([
      `a rotation of "sa/pay" is already waiting: rotation ${id}, requested by ${jobs[0]!.data.requestedBy} (suspected leak in CI logs); nothing new was queued`,
      `follow it: npx dfns-rotator history --rotation ${id}`,
    ]);
    expect(await rt.queues.rotate.getJobs(['waiting'])).toHaveLength(1);

    const audit = await rt.audit.read({ limit: 10, secretName: 'sa/pay' });
    expect(audit).toEqual([expect.objectContaining({ action: 'requested', actor: jobs[0]!.data.requestedBy, rotationId: id, outcome: 'info', detail: 'configured strategy: suspected leak in CI logs' })]);

    // Leave no waiting job behind for the tests that start workers.
    await jobs[0]!.remove();
    await rt.queues.rotate.removeDeduplicationKey(jobIds.rotateDedupe('sa/pay'));
  });

  it('with --wait, follows the rotation through a running daemon and prints each step, then the outcome', async () => {
    await Promise.all(rt.startWorkers().map((w) => w.waitUntilReady()));
    const before = await current('sa/ledger');
    const run = await rotate(['sa/ledger', '--reason', 'quarterly rotation', '--wait']);
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    const id = new RegExp(`^queued rotation (${ULID}) of "sa/ledger"$`).exec(run.out[0] ?? '')?.[1];
    expect(id).toBeDefined();
    const steps = run.out.slice(1, -1).map((l) => /^ {2}\d\d:\d\d:\d\dZ {2}([a-z -]+?)(?: \(|:|$)/.exec(l)?.[1]);
    expect(steps).toEqual(['planned', 'staged', 'create-begun', 'created', 'verified', 'promoted', 'announced', 'retire-scheduled']);

    const after = await current('sa/ledger');
    expect(after.value.credentialId).not.toBe(before.value.credentialId);
    expect(run.out.at(-1)).toMatch(new RegExp(`^rotation ${id} succeeded: "sa/ledger" now holds ${after.value.credentialId}; the old one stays active until it is retired at \\d{4}-`));
    expectNoSecrets(run);
  });

  it('reports a parked rotation, refuses a new one without --resume, and resumes it once approved', async () => {
    fx.sim.setKnobs({ policyPending: ['CreateServiceAccount'] });
    const parked = await rotate(['sa/approvals', '--reason', 'key age', '--wait']);
    expect(parked.code).toBe(1);
    expect(parked.err).toEqual([
      expect.stringMatching(new RegExp(`^rotation ${ULID} is parked: a Dfns policy holds the create for approval \\(approval .+\\)$`)),
      "once approved in Dfns, run: npx dfns-rotator rotate sa/approvals --resume --reason 'key age'",
    ]);
    const parkedId = /^rotation (\S+) is parked/.exec(parked.err[0]!)![1];

    const again = await rotate(['sa/approvals', '--reason', 'key age']);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(new RegExp(`^rotation ${parkedId} of "sa/approvals" is parked`));
    expect(again.err[1]).toBe("once it is approved in Dfns, run: npx dfns-rotator rotate sa/approvals --resume --reason approved (nothing was queued)");
    expect(await rt.queues.rotate.getJobs(['waiting', 'active', 'delayed'])).toEqual([]);

    fx.sim.setKnobs({ policyPending: [] });
    const resumed = await rotate(['sa/approvals', '--reason', 'approved by the risk team', '--resume', '--wait']);
    expect(resumed.err).toEqual([]);
    expect(resumed.code).toBe(0);
    expect(resumed.out.at(-1)).toMatch(new RegExp(`^rotation ${parkedId} succeeded: "sa/approvals"`));
    expect(resumed.out.some((l) => /resumed \(info\)/.test(l))).toBe(true);

    const nothing = await rotate(['sa/approvals', '--reason', 'again', '--resume']);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toEqual(['--resume: no rotation of "sa/approvals" is parked for approval; drop --resume to start a new one. Nothing was queued']);
  });

  it('refuses an unknown credential with the reason, before touching Redis', async () => {
    const run = await rotate(['sa/typo', '--reason', 'oops'], { ...fx.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^rotate: no managed credential "sa\/typo": give a secret name, sa:<id>, pat:<id> or a Dfns id/)]);
    expect(run.out).toEqual([]);
  });

  it('says Redis cannot be reached, with the password masked', async () => {
    const port = await freePort();
    const run = await rotate(['sa/pay', '--reason', 'redis is down'], { ...fx.env, REDIS_URL: `redis://rotator:hunter2-secret@127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(new RegExp(`^cannot reach Redis at redis://rotator:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); is it running`))]);
    expect(run.all).not.toContain('hunter2-secret');
  });

  it('rejects bad usage with every problem named', async () => {
    const err = await rotate(['--strategy', 'notify']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/<credential>: name the credential to rotate[\s\S]*--strategy: "notify" is not replace or rekey[\s\S]*--reason: required/);
    const short = await rotate(['sa/pay', '--reason', 'x']).catch((e: unknown) => e);
    expect((short as ConfigError).message).toMatch(/--reason: say why \(at least 3 characters\)/);
  });
});
