import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { ScanSummary } from '../../src/model.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 8, leftovers: Redis without persistence, wiped mid-rotation, left an active new
 * credential whose token existed only in the store's pending version, and the secret stuck at
 * `planned`. The store is the durable truth: an orphaned pending version is adopted (finished or
 * cleaned) by the next scan or trigger, and what was done is in the audit log. A rotation whose
 * job was given up is resumed by the next scan, not only by a manual trigger.
 */
describe('a rotation whose record Redis lost', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();
  let crashAt: { secret: string; at: string } | undefined;

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [
        { name: 'wiped-created', held: true, ageDays: 100, daysValid: 365 },
        { name: 'wiped-answered', held: true, ageDays: 100, daysValid: 365 },
        { name: 'given-up', held: true, ageDays: 100, daysValid: 365 },
        { name: 'unretired', held: true, ageDays: 100, daysValid: 365 },
      ],
      pats: [{ name: 'wiped-pat', owner: OPERATOR, held: true, ageDays: 5, daysValid: 30 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    const crash = (r: RotationRecord, point: string) => {
      if (crashAt && crashAt.secret === r.secretName && crashAt.at === point) {
        crashAt = undefined;
        throw new Error(`simulated crash at ${point}`);
      }
    };
    rt = fx.runtime({ rotationHooks: { afterStep: (r) => crash(r, r.step), afterCreateAnswered: (r) => crash(r, 'create-answered') } });
    await fx.adopt('wiped-created', 'sa/wiped-created');
    await fx.adopt('wiped-answered', 'sa/wiped-answered');
    await fx.adopt('given-up', 'sa/given-up');
    await fx.adopt('unretired', 'sa/unretired');
    await fx.adopt('wiped-pat', 'pat/wiped-pat', 'pat');
    rt.startWorkers();
    operator = (await rt.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  /** Runs a rotation that dies at `at` on its only attempt. */
  async function rotateAndDie(secret: string, at: string): Promise<string> {
    crashAt = { secret, at };
    const rotationId = ulid(Date.now());
    await expect(runJob(rt.queues.rotate, 'rotate', { credential: secret, reason: 'doomed', requestedBy: 'test', rotationId }, { attempts: 1 })).rejects.toThrow(/simulated crash/);
    return rotationId;
  }

  /** Everything a Redis restart without persistence loses: rotation records, pointers, jobs. */
  async function wipeRedis(): Promise<void> {
    for (const q of Object.values(rt.queues)) await q.obliterate({ force: true });
    await deletePrefix(redis, `${fx.config.redis.prefix}:rotation`);
    await deletePrefix(redis, `${fx.config.redis.prefix}:active-rotation`);
    const left = await redis.keys(`${fx.config.redis.prefix}:rotation*`);
    if (left.length) await redis.del(...left);
  }

  async function scan(): Promise<ScanSummary> {
    const summary = await runJob<ScanSummary>(rt.queues.scan, 'scan', { trigger: 'manual' });
    await drain(rt.queues.rotate);
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    return summary;
  }

  async function current(secret: string) {
    return versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
  }

  async function activeNamed(kind: 'sa' | 'pat', prefix: string): Promise<string[]> {
    const all = kind === 'sa'
      ? (await operator.listServiceAccounts()).filter((s) => s.isActive).map((s) => ({ id: s.id, name: s.name }))
      : (await operator.listPersonalAccessTokens()).filter((p) => p.isActive).map((p) => ({ id: p.tokenId, name: p.name }));
    return all.filter((x) => x.name.startsWith(prefix)).map((x) => x.id).sort();
  }

  it('created, then wiped: the next scan adopts the pending version, proves and promotes it, retires the old one, and says so in the audit', async () => {
    const before = await current('sa/wiped-created');
    const rotationId = await rotateAndDie('sa/wiped-created', 'created');
    const pending = versionWithStage((await rt.store.get('sa/wiped-created'))!.versions, 'pending')!;
    const newId = pending.value.credentialId!;
    expect(newId).toMatch(/^us-/);
    await wipeRedis();

    const summary = await scan();
    expect(summary.rotationsQueued).toBeGreaterThanOrEqual(1);
    const now = await current('sa/wiped-created');
    expect(now.value.credentialId).toBe(newId); // the created credential, not a third one
    await rt.identities.asSecret(now.value, 'check').proveSigning();
    expect(await activeNamed('sa', 'wiped-created')).toEqual([newId]);
    await expect(operator.getServiceAccount(before.value.credentialId!)).rejects.toMatchObject({ code: 'DFNS_NOT_FOUND' });
    const story = (await rt.audit.read({ limit: 50, rotationId })).reverse();
    const adopted = story.find((e) => e.action === 'adopted')!;
    expect(adopted.detail).toMatch(new RegExp(`had no rotation record .*holds the new credential ${newId}`));
    expect(story.map((e) => e.action).slice(story.indexOf(adopted))).toEqual(['adopted', 'verified', 'promoted', 'announced', 'retire-scheduled', 'usage not checked: the overlap ended inside usageGraceMinutes (keep the grace shorter than the overlap)', 'deactivated old credential', 'archived old credential']);
  });

  it.each([
    { secret: 'sa/wiped-answered', kind: 'sa' as const, base: 'wiped-answered' },
    { secret: 'pat/wiped-pat', kind: 'pat' as const, base: 'wiped-pat' },
  ])('answered but token lost, then wiped ($kind): a trigger adopts it, removes the orphan (found by its key) and finishes', async ({ secret, kind, base }) => {
    const before = await current(secret);
    const rotationId = await rotateAndDie(secret, 'create-answered');
    const orphan = (await activeNamed(kind, `${base}-g2`));
    expect(orphan).toHaveLength(1);
    await wipeRedis();

    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: secret, reason: 'retry after the wipe', requestedBy: 'test' });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    expect(result).toMatchObject({ rotationId, step: 'retire-scheduled' });
    const record = (await rt.rotations.get(rotationId))!;
    expect(record.orphans).toEqual([{ credentialId: orphan[0], cleaned: true }]);
    const now = await current(secret);
    expect(now.value.credentialId).toBe(result.newCredentialId);
    expect(now.value.name).toBe(`${base}-g2-2`);
    expect(await activeNamed(kind, base)).toEqual([result.newCredentialId]);
    expect(now.value.credentialId).not.toBe(before.value.credentialId);
    const adopted = (await rt.audit.read({ limit: 50, rotationId })).find((e) => e.action === 'adopted')!;
    expect(adopted.detail).toMatch(/create attempt 1 .* may have been sent/);
  });

  it('promoted, then wiped before its retirement was scheduled: the next scan retires the old credential', async () => {
    const before = await current('sa/unretired');
    const rotationId = await rotateAndDie('sa/unretired', 'announced');
    const promoted = await current('sa/unretired');
    expect(promoted.metadata.rotationId).toBe(rotationId);
    await wipeRedis();
    expect((await operator.getServiceAccount(before.value.credentialId!)).isActive).toBe(true);

    await scan();
    await expect(operator.getServiceAccount(before.value.credentialId!)).rejects.toMatchObject({ code: 'DFNS_NOT_FOUND' });
    expect((await current('sa/unretired')).value.credentialId).toBe(promoted.value.credentialId);
    expect((await rt.store.get('sa/unretired'))!.versions.map((v) => v.stages)).toEqual([['current']]);
    const story = (await rt.audit.read({ limit: 50, rotationId })).reverse().map((e) => e.action);
    expect(story.slice(story.lastIndexOf('adopted'))).toEqual(['adopted', 'retire-scheduled', 'usage not checked: the overlap ended inside usageGraceMinutes (keep the grace shorter than the overlap)', 'deactivated old credential', 'archived old credential']);
  });

  it('a rotation whose job was given up is resumed by the next scan', async () => {
    const rotationId = await rotateAndDie('sa/given-up', 'verified');
    expect((await rt.rotations.get(rotationId))!.step).toBe('verified');
    await scan();
    const record = (await rt.rotations.get(rotationId))!;
    expect(record.step).toBe('done');
    expect((await current('sa/given-up')).value.credentialId).toBe(record.created!.credentialId);
  });
});
