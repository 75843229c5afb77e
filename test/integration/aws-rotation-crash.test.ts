import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { jobIds, ulid } from '../../src/jobs/queues/ids.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { sdkClientFor } from '../helpers/aws-server.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';
import { OPERATOR, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { LineChild } from '../helpers/line-child.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';
import { keysContaining, SECRET_MARKERS } from '../helpers/redis-secrets.js';

/**
 * Issue 10, done-when: the SIGKILL-at-every-step crash test of the rotation engine
 * (rotation-crash.test.ts) with the aws-secrets-manager store, every worker a separate process
 * talking to one local Secrets Manager through the official SDK. On top of the engine's checks,
 * the consumer's view: before promote AWSCURRENT is still the old credential and AWSPENDING never
 * leaks into it; afterwards AWSCURRENT is the new credential and AWSPREVIOUS the old one.
 * (Once test/helpers/store-fixtures.ts lands, startAwsStore becomes its aws-secrets-manager entry.)
 */
const POINTS = ['planned', 'staged', 'creating', 'create-answered', 'created', 'verified', 'promoted', 'announced', 'retire-scheduled', 'deactivated'] as const;
const BEFORE_PROMOTE = new Set<string>(['planned', 'staged', 'creating', 'create-answered', 'created', 'verified']);

describe('a worker killed at every step of a rotation (aws-secrets-manager store)', () => {
  let aws: RunningAwsStore;
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  let sm: SecretsManagerClient;
  const redis = newRedis();
  const childLogs: string[] = [];

  beforeAll(async () => {
    aws = await startAwsStore();
    sm = sdkClientFor(aws.aws);
    fx = await startFixture({
      serviceAccounts: POINTS.map((p) => ({ name: `sa-${p}`, held: true, ageDays: 300, daysValid: 365, permission: 'Reader' })),
      pats: POINTS.map((p) => ({ name: `pat-${p}`, owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 })),
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0', ...aws.env },
    });
    rt = fx.runtime({ store: aws.open() }); // the parent only enqueues and inspects: no workers here
    for (const p of POINTS) {
      await fx.adopt(`sa-${p}`, `sa/${p}`);
      await fx.adopt(`pat-${p}`, `pat/${p}`, 'pat');
    }
    operator = (await rt.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    sm.destroy();
    await aws.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  function child(extra: Record<string, string> = {}): LineChild {
    const c = new LineChild('rotation-child.ts', { ...fx.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra });
    void c.exited.then(() => childLogs.push(c.stderr));
    return c;
  }

  async function current(secret: string) {
    return versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
  }

  /** What a consuming service reads, with the official SDK and no dfns-rotator code. */
  async function consumerRead(secret: string, stage?: string): Promise<{ accessToken: string | null; serviceAccountId?: string; tokenId?: string } | null> {
    try {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: `${aws.settings.namePrefix}${secret}`, ...(stage ? { VersionStage: stage } : {}) }));
      return JSON.parse(got.SecretString!) as { accessToken: string | null };
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return null;
      throw err;
    }
  }

  async function isActive(kind: 'sa' | 'pat', id: string): Promise<boolean | 'archived'> {
    try {
      return kind === 'sa' ? (await operator.getServiceAccount(id)).isActive : (await operator.getPersonalAccessToken(id)).isActive;
    } catch (err) {
      if ((err as { code?: string }).code === 'DFNS_NOT_FOUND') return 'archived';
      throw err;
    }
  }

  async function waitForRotation(rotationId: string): Promise<void> {
    const events = new QueueEvents('rotate', { connection: rt.redis, prefix: fx.config.redis.prefix });
    try {
      await events.waitUntilReady();
      const job = await rt.queues.rotate.getJob(`rotate_${rotationId}`);
      await job!.waitUntilFinished(events, 30_000);
    } finally {
      await events.close();
    }
    await vi.waitFor(async () => expect((await rt.rotations.get(rotationId))!.step).toBe('done'), { timeout: 30_000, interval: 100 });
  }

  it.each(POINTS)('killed at %s, the next worker finishes the rotation safely', async (point) => {
    const cases = [
      { kind: 'sa' as const, secret: `sa/${point}`, base: `sa-${point}` },
      { kind: 'pat' as const, secret: `pat/${point}`, base: `pat-${point}` },
    ];
    const before = await Promise.all(cases.map((c) => current(c.secret)));
    const rotationIds = cases.map(() => ulid(Date.now()));
    for (const [i, c] of cases.entries()) {
      await enqueueRotation(rt.queues.rotate, { secretName: c.secret, reason: `crash at ${point}`, requestedBy: 'test', rotationId: rotationIds[i]! });
    }

    const doomed = child({ CRASH_AT: point, ROTATE_CONCURRENCY: '2' });
    await doomed.waitForCount(/^CRASH-POINT /, 2);
    doomed.process.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');

    for (const [i, c] of cases.entries()) {
      if (BEFORE_PROMOTE.has(point)) {
        expect(await isActive(c.kind, before[i]!.value.credentialId!)).toBe(true);
        expect((await current(c.secret)).versionId).toBe(before[i]!.versionId);
        // consumers still read the old credential: a pending one never reaches AWSCURRENT
        expect((await consumerRead(c.secret))?.accessToken).toBe(before[i]!.value.accessToken);
      }
    }

    const rescuer = child({ ROTATE_CONCURRENCY: '2' });
    await rescuer.waitForLine(/^READY$/);
    await Promise.all(rotationIds.map((id) => waitForRotation(id)));
    rescuer.process.kill('SIGTERM');
    await rescuer.exited;

    for (const [i, c] of cases.entries()) {
      const old = before[i]!.value;
      const now = await current(c.secret);
      expect(now.value.credentialId).not.toBe(old.credentialId);
      const read = await consumerRead(c.secret);
      expect(read?.accessToken).toBe(now.value.accessToken);
      expect(c.kind === 'sa' ? read?.serviceAccountId : read?.tokenId).toBe(now.value.credentialId);
      expect(await consumerRead(c.secret, 'AWSPENDING')).toBeNull();
      // the old credential was AWSPREVIOUS until it was retired (overlap 0: retired already, its label dropped)
      const port = rt.identities.asSecret(now.value, 'check');
      await port.listPersonalAccessTokens();
      await port.proveSigning();
      const named = c.kind === 'sa'
        ? (await operator.listServiceAccounts()).filter((s) => s.name.startsWith(`${c.base}-g2`)).map((s) => ({ id: s.id, active: s.isActive }))
        : (await operator.listPersonalAccessTokens()).filter((p) => p.name.startsWith(`${c.base}-g2`)).map((p) => ({ id: p.tokenId, active: p.isActive }));
      expect(named.filter((n) => n.active)).toEqual([{ id: now.value.credentialId, active: true }]);
      expect(await isActive(c.kind, old.credentialId!)).toBe('archived');
      const record = (await rt.rotations.get(rotationIds[i]!))!;
      expect(record.orphans.every((o) => o.cleaned)).toBe(true);
      if (point === 'create-answered') expect(record.orphans).toHaveLength(1);
      const story = (await rt.audit.read({ limit: 100, rotationId: rotationIds[i]! })).reverse().map((e) => e.action);
      expect(story.indexOf('deactivated old credential')).toBeGreaterThan(story.indexOf('promoted'));
      expect(story.filter((a) => a === 'promoted')).toHaveLength(1);
      // The retirement was announced, also when the worker died right after deactivating.
      expect((await rt.queues.notify.getJob(jobIds.notify(`retired:${rotationIds[i]}:deactivated`)))?.data).toMatchObject({ type: 'credential-retired', outcome: 'deactivated' });
    }
  });

  it('left no token or key in Redis or in any worker log', async () => {
    const secrets: string[] = [];
    for (const s of await rt.store.list()) {
      for (const v of (await rt.store.get(s.name))!.versions) secrets.push(v.value.accessToken ?? '', v.value.privateKeyPem);
    }
    for (const k of fx.keys.values()) secrets.push(k.key.privateKeyPem);
    for (const t of fx.sim.seededTokens.values()) secrets.push(t);
    expect(secrets.length).toBeGreaterThan(40);
    expect(await keysContaining(redis, fx.config.redis.prefix, [...secrets, ...SECRET_MARKERS])).toEqual([]);
    const logs = childLogs.join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    for (const s of [...secrets, ...SECRET_MARKERS]) if (s) expect(logs).not.toContain(s);
  });
});
