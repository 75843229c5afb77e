import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import { OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { Registry } from 'prom-client';
import { retireCommand } from '../../src/commands/retire.js';
import { statusCommand } from '../../src/commands/status.js';
import { pendingRetirement } from '../../src/jobs/core/retire-facts.js';
import { createPrometheusMetrics } from '../../src/server/prometheus.js';
import { inventoryRows, retirementText } from '../../src/server/inventory-view.js';
import type { InventoryItem } from '../../src/model.js';
import { runCommand } from '../helpers/command-context.js';
import { LineChild } from '../helpers/line-child.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 11, end to end: a consumer process signs a Dfns call every 100 ms while the daemon
 * rotates its service account. With `rotatingDfnsClient` it never fails a call and is on the new
 * credential before the old one is deactivated; a consumer that never re-reads keeps the old one
 * in use, so retirement is postponed with one alert, then held at the maximum overlap until a
 * person forces it. Time moves on the simulator's clock; retire jobs are promoted by hand.
 */
const HOUR = 3_600_000;
const redis = newRedis();

interface Line { event?: string; call?: number; ok?: boolean; as?: string | null; error?: string; from?: string; to?: string }

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20)); // polling a condition with a deadline, not waiting for time to pass
  }
}

describe('consumers and retirement', () => {
  let fx: Fixture | undefined;
  let consumer: LineChild | undefined;

  afterEach(async () => {
    if (consumer) {
      consumer.process.kill('SIGTERM');
      await consumer.exited;
      consumer = undefined;
    }
    if (fx) {
      await fx.close();
      await deletePrefix(redis, fx.config.redis.prefix);
      fx = undefined;
    }
  });

  async function setUp(mode: 'rotating' | 'static' | 'none', auditLog = true) {
    fx = await startFixture({
      extraSeed: { permissions: [{ id: 'pm-writer', name: 'Writer', operations: ['Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Update', 'Auth:ServiceAccounts:Activate'] }] },
      serviceAccounts: [
        { name: 'pay', held: true, ageDays: 355, daysValid: 365, permission: 'Writer' },
        { name: 'scratch', ageDays: 1, daysValid: 365 },
      ],
      pats: [{ name: 'ci', owner: OPERATOR, held: true, ageDays: 20, daysValid: 30, permission: 'Writer' }],
      ...(auditLog ? { operatorExtraOperations: ['Auth:Logs:Read'] } : {}),
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '1', DFNS_ROTATOR_USAGE_GRACE_MINUTES: '0', DFNS_ROTATOR_MAX_OVERLAP_HOURS: '3', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '48' },
      knobs: { tokensMayManageCredentials: true },
    });
    const rt = fx.runtime();
    await fx.adopt('pay', 'sa/pay');
    await fx.adopt('ci', 'pat/ci', 'pat');
    rt.startWorkers();
    const operator = (await rt.identities.operator())!;
    const scratch = (await operator.listServiceAccounts()).find((s) => s.name === 'scratch')!.id;
    const old = (await operator.listServiceAccounts()).find((s) => s.name === 'pay')!.id;
    if (mode === 'none') return { rt, operator, old, scratch };
    consumer = new LineChild('consumer-child.ts', {
      MODE: mode,
      SECRET_NAME: 'sa/pay',
      STORE_DIR: fx.config.store.kind === 'file' ? fx.config.store.dir : '',
      STORE_KEY: fx.env.DFNS_ROTATOR_STORE_KEY!,
      SCRATCH_SA_ID: scratch,
      CALL_EVERY_MS: '100',
      REFRESH_MS: '200',
    });
    await consumer.waitForCount(/"ok":true/, 3);
    return { rt, operator, old, scratch };
  }

  const lines = (): Line[] => consumer!.lines.map((l) => JSON.parse(l) as Line);

  async function rotate(rt: Runtime, extra: Record<string, unknown> = {}): Promise<RotateResult> {
    return runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/pay', reason: 'consumer test', requestedBy: 'test', ...extra });
  }

  /**
   * One overlap period: the consumer keeps working (two more calls: an hour of simulator time is
   * compressed into them), the clock moves past the due retire time, and the retire job runs now.
   * Returns the record once the job has run.
   */
  async function nextRetireRound(rt: Runtime, rotationId: string): Promise<RotationRecord> {
    const before = (await rt.rotations.get(rotationId))!;
    if (consumer) {
      const made = consumer.lines.filter((l) => l.includes('"call"')).length;
      await consumer.waitForCount(/"call"/, made + 2);
    }
    fx!.sim.clock.advance(HOUR + 1000);
    const job = await until<Job>('the delayed retire job', async () => (await rt.queues.retire.getJobs(['delayed'])).find((j) => j.data.rotationId === rotationId && j.data.phase === 'deactivate'));
    await job.promote();
    return until('the retire job to run', async () => {
      const r = await rt.rotations.get(rotationId);
      const state = await rt.queues.retire.getJobState(job.id!);
      return r && r.revision > before.revision && (state === 'delayed' || state === 'completed') ? r : null;
    });
  }

  async function notices(rt: Runtime, type: string) {
    return (await rt.queues.notify.getJobs(['completed', 'waiting', 'delayed', 'active', 'failed'])).filter((j) => j.name === type);
  }

  it('a consumer on rotatingDfnsClient never fails, and moves before the old credential is deactivated', async () => {
    const { rt, operator, old } = await setUp('rotating');
    const result = await rotate(rt);
    expect(result.step).toBe('retire-scheduled');
    const fresh = result.newCredentialId!;

    let record = (await rt.rotations.get(result.rotationId))!;
    for (let round = 0; round < 5 && record.step !== 'deactivated' && record.step !== 'done'; round++) {
      record = await nextRetireRound(rt, result.rotationId);
    }
    expect(record.step).toBe('deactivated');
    expect((await operator.getServiceAccount(old)).isActive).toBe(false);
    // Each round saw the consumer sign twice: retired only once those calls were on the new credential.
    expect(record.usage?.status).toBe('unused');

    // Let the consumer make a few more calls on the new credential, then stop it.
    const seen = consumer!.lines.length;
    await consumer!.waitForLine(() => consumer!.lines.length >= seen + 3);
    consumer!.process.kill('SIGTERM');
    await consumer!.waitForLine(/"event":"stopped"/);

    const calls = lines().filter((l) => l.call !== undefined);
    expect(calls.length).toBeGreaterThan(5);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(lines().find((l) => l.event === 'rotated')).toMatchObject({ from: old, to: fresh });
    expect(calls.at(-1)!.as).toBe(fresh);

    // Dfns' own record: the new service account signed before the operator deactivated the old one.
    const log = fx!.sim.actionLog();
    const firstNew = log.findIndex((e) => e.userId === fresh);
    const deactivation = log.findIndex((e) => e.actionPath === `/auth/service-accounts/${old}/deactivate`);
    expect(firstNew).toBeGreaterThanOrEqual(0);
    expect(deactivation).toBeGreaterThan(firstNew);
    expect(log.slice(deactivation).some((e) => e.userId === old)).toBe(false);
    expect(log.find((e) => e.actionPath === `/auth/service-accounts/${old}/deactivate`)?.username).toBe(OPERATOR);
  });

  it('a consumer that never re-reads: retirement postponed with one alert, then held for a person, then forced', async () => {
    const { rt, operator, old } = await setUp('static');
    const result = await rotate(rt);

    const first = await nextRetireRound(rt, result.rotationId);
    expect(first).toMatchObject({ step: 'retire-scheduled', usage: { status: 'in-use', postponements: 1 } });
    expect(first.usage!.lastUseAt).toBeGreaterThanOrEqual(first.promotedAt!);
    // The inventory and the metrics say the consumers have not moved, and when retirement is checked again.
    const registry = new Registry();
    createPrometheusMetrics(registry, { rotations: rt.rotations, defaultMetrics: false });
    const labels = `kind="service-account",id="${old}",name="pay",secret="sa/pay",rotation="${result.rotationId}"`;
    let metrics = await registry.metrics();
    expect(metrics).toContain(`dfns_rotator_credential_retire_timestamp_seconds{${labels}} ${first.retireAt! / 1000}`);
    expect(metrics).toContain(`dfns_rotator_credential_last_use_timestamp_seconds{${labels}} ${first.usage!.lastUseAt! / 1000}`);
    expect(metrics).toContain(`dfns_rotator_credential_retire_state{${labels},state="in-use"} 1`);
    expect(retirementText(pendingRetirement(first)!, fx!.sim.clock.now())).toMatch(/consumers have not moved \(last signed .* UTC, per Dfns' audit log\): retirement postponed, checked again in 1 hour/);

    const second = await nextRetireRound(rt, result.rotationId);
    expect(second.usage).toMatchObject({ status: 'in-use', postponements: 2 });
    // promoted + 3 h is the maximum: the third check holds it for a person.
    const third = await nextRetireRound(rt, result.rotationId);
    expect(third.usage?.status).toBe('held');
    expect(await rt.queues.retire.getJobState(`retire_${result.rotationId}_deactivate`)).toBe('completed');
    expect((await operator.getServiceAccount(old)).isActive).toBe(true);
    metrics = await registry.metrics();
    expect(metrics).toContain(`dfns_rotator_credential_retire_state{${labels},state="held"} 1`);
    expect(metrics).not.toContain(`dfns_rotator_credential_retire_timestamp_seconds{${labels}}`);
    expect(retirementText(pendingRetirement(third)!, fx!.sim.clock.now())).toContain(`npx dfns-rotator retire ${result.rotationId} --force --reason 'its consumers have moved'`);

    const postponed = await notices(rt, 'retire-postponed');
    expect(postponed.map((j) => j.data.outcome).sort()).toEqual(['held', 'postponed']);
    expect(calls().filter((c) => !c.ok)).toEqual([]);
    expect(calls().every((c) => c.as === old)).toBe(true);

    const status = await runCommand(statusCommand, [], { env: fx!.env, cwd: fx!.dir, clock: fx!.sim.clock });
    expect(status.code).toBe(1);
    expect(status.all).toContain(`Held for a person: sa/pay's old credential sa:${old} still signs`);
    expect(status.all).toContain(`npx dfns-rotator retire ${result.rotationId} --force --reason 'its consumers have moved'`);

    // A person decides: `dfns-rotator retire <rotation> --force`.
    const forced = await runCommand(retireCommand, [result.rotationId, '--force', '--reason', 'the batch job is being fixed'], { env: fx!.env, cwd: fx!.dir, clock: fx!.sim.clock });
    expect(forced.err).toEqual([]);
    expect(forced.code).toBe(0);
    expect(forced.out.join('\n')).toContain(`sa:${old}`);
    await until('the forced retirement', async () => (await rt.rotations.get(result.rotationId))?.step === 'deactivated');
    expect((await operator.getServiceAccount(old)).isActive).toBe(false);
    expect((await rt.audit.read({ limit: 50, rotationId: result.rotationId })).map((e) => e.action)).toContain('retire forced');
    const again = await runCommand(retireCommand, [result.rotationId, '--force', '--reason', 'twice'], { env: fx!.env, cwd: fx!.dir, clock: fx!.sim.clock });
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/already retired/);

    function calls() {
      return lines().filter((l) => l.call !== undefined);
    }
  });

  it('without Auth:Logs:Read the overlap rule stands, and the record and inventory say why', async () => {
    const { rt, operator, old } = await setUp('static', false);
    const result = await rotate(rt);
    const record = await nextRetireRound(rt, result.rotationId);
    expect(record.step).toBe('deactivated');
    expect(record.usage).toMatchObject({ status: 'not-visible', note: expect.stringContaining('grant it Auth:Logs:Read') });
    expect((await operator.getServiceAccount(old)).isActive).toBe(false);
    const [row] = inventoryRows([{ kind: 'service-account', id: old, name: 'pay', expiresAt: null, managed: true, strategy: 'replace', role: 'current' } as unknown as InventoryItem], [record], fx!.sim.clock.now());
    expect(row!.nextAction).toMatch(/deactivated after the overlap alone: whether consumers had moved was not visible \(operator .* may not read the audit log \(grant it Auth:Logs:Read\)\)/);
    expect(await notices(rt, 'retire-postponed')).toEqual([]);
  });

  it('rekey: only signatures with the old Key credential count, not the new key on the same service account', async () => {
    const { rt, scratch } = await setUp('none');
    const before = (await rt.store.get('sa/pay'))!.versions.find((v) => v.stages.includes('current'))!;
    const result = await rotate(rt, { strategy: 'rekey' });
    expect(result.step).toBe('retire-scheduled');
    const record = (await rt.store.get('sa/pay'))!;
    const current = record.versions.find((v) => v.stages.includes('current'))!;
    const previous = record.versions.find((v) => v.versionId === before.versionId)!;
    expect(current.value.credentialId).toBe(previous.value.credentialId);

    // A forgotten service still signs with the old key: postponed.
    await rt.identities.asSecret(previous.value, 'old key').activateServiceAccount(scratch);
    const first = await nextRetireRound(rt, result.rotationId);
    expect(first.usage).toMatchObject({ status: 'in-use', postponements: 1 });

    // Now only the new key signs (same service account, same token): that is not the old credential.
    await rt.identities.asSecret(current.value, 'new key').activateServiceAccount(scratch);
    const second = await nextRetireRound(rt, result.rotationId);
    expect(second.step).toBe('deactivated');
    expect(second.usage?.status).toBe('unused');
    const credentials = await rt.identities.asSecret(current.value, 'check').listCredentials();
    expect(credentials.find((c) => c.credentialId === previous.value.credId)?.isActive).toBe(false);
    expect(credentials.find((c) => c.credentialId === current.value.credId)?.isActive).toBe(true);
  });

  it("PAT: its owner's own signatures (the operator's) do not count, the old PAT's do", async () => {
    const { rt, operator, scratch } = await setUp('none');
    const before = (await rt.store.get('pat/ci'))!.versions.find((v) => v.stages.includes('current'))!;
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'pat/ci', reason: 'consumer test', requestedBy: 'test' });
    expect(result.step).toBe('retire-scheduled');

    await rt.identities.asSecret(before.value, 'old pat').activateServiceAccount(scratch);
    const first = await nextRetireRound(rt, result.rotationId);
    expect(first.usage).toMatchObject({ status: 'in-use' });

    // Only the operator (the PAT's owner, same user id in the audit log) signs now.
    await operator.activateServiceAccount(scratch);
    const second = await nextRetireRound(rt, result.rotationId);
    expect(second.usage?.status).toBe('unused');
    expect(second.step).toBe('deactivated');
    expect((await operator.getPersonalAccessToken(before.value.credentialId!)).isActive).toBe(false);
  });
});
