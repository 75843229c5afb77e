import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { jobIds, ulid } from '../../src/jobs/queues/ids.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { OPERATOR, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { LineChild } from '../helpers/line-child.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';
import { keysContaining, SECRET_MARKERS } from '../helpers/redis-secrets.js';
import { STORE_KINDS } from '../helpers/store-fixtures.js';

/**
 * Issue "Crash-safe rotation engine", done-when: a worker process is SIGKILLed at each step
 * boundary of a replace rotation of a service account and of a PAT, then restarted. Afterwards:
 * exactly one new active credential; the store's current token and key work against Dfns; the old
 * credential was deactivated only after promote; no orphan left active; no token or key in Redis
 * or in the logs. Issue 10: the same on every secret-store backend.
 */
const POINTS = ['planned', 'staged', 'creating', 'create-answered', 'created', 'verified', 'promoted', 'announced', 'retire-scheduled', 'deactivated'] as const;
const BEFORE_PROMOTE = new Set<string>(['planned', 'staged', 'creating', 'create-answered', 'created', 'verified']);

// aws-secrets-manager runs the same crash test in aws-rotation-crash.test.ts, with AWS' labels checked at every step.
describe.each(STORE_KINDS.filter((k) => k !== 'aws-secrets-manager'))('a worker killed at every step of a rotation (%s store)', (storeKind) => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();
  const childLogs: string[] = [];

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: POINTS.map((p) => ({ name: `sa-${p}`, held: true, ageDays: 300, daysValid: 365, permission: 'Reader' })),
      pats: POINTS.map((p) => ({ name: `pat-${p}`, owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 })),
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
      store: storeKind,
    });
    rt = fx.runtime(); // the parent only enqueues and inspects: no workers here
    for (const p of POINTS) {
      await fx.adopt(`sa-${p}`, `sa/${p}`);
      await fx.adopt(`pat-${p}`, `pat/${p}`, 'pat');
    }
    operator = (await rt.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  function child(extra: Record<string, string> = {}): LineChild {
    const c = new LineChild('rotation-child.ts', { ...fx.env, ...extra });
    void c.exited.then(() => childLogs.push(c.stderr));
    return c;
  }

  async function current(secret: string) {
    return versionWithStage((await rt.store.get(secret))!.versions, 'current')!;
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

    // First worker: runs both rotations (concurrency 2) to the crash point, then is killed.
    const doomed = child({ CRASH_AT: point, ROTATE_CONCURRENCY: '2' });
    await doomed.waitForCount(/^CRASH-POINT /, 2);
    doomed.process.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');

    for (const [i, c] of cases.entries()) {
      const oldId = before[i]!.value.credentialId!;
      if (BEFORE_PROMOTE.has(point)) {
        // Nothing retired or switched before the successor is proven and stored.
        expect(await isActive(c.kind, oldId)).toBe(true);
        expect((await current(c.secret)).versionId).toBe(before[i]!.versionId);
      }
    }

    // A fresh worker picks the interrupted jobs up once their locks expire.
    const rescuer = child({ ROTATE_CONCURRENCY: '2' });
    await rescuer.waitForLine(/^READY$/);
    await Promise.all(rotationIds.map((id) => waitForRotation(id)));
    rescuer.process.kill('SIGTERM');
    await rescuer.exited;

    for (const [i, c] of cases.entries()) {
      const old = before[i]!.value;
      const now = await current(c.secret);
      expect(now.value.credentialId).not.toBe(old.credentialId);
      if (fx.store.vault) {
        // A consumer reading Vault with plain HTTP gets the new credential as the latest version.
        const res = await fetch(`${fx.store.vault.url}/v1/secret/data/dfns-rotator/${c.secret}`, { headers: { 'X-Vault-Token': fx.store.vault.rootToken } });
        expect(((await res.json()) as { data: { data: { accessToken: string } } }).data.data.accessToken).toBe(now.value.accessToken);
      }
      // The current token and key work against Dfns.
      const port = rt.identities.asSecret(now.value, 'check');
      await port.listPersonalAccessTokens();
      await port.proveSigning();
      // Exactly one new active credential; the old one and any orphan of a lost create are gone.
      const named = c.kind === 'sa'
        ? (await operator.listServiceAccounts()).filter((s) => s.name.startsWith(`${c.base}-g2`)).map((s) => ({ id: s.id, active: s.isActive }))
        : (await operator.listPersonalAccessTokens()).filter((p) => p.name.startsWith(`${c.base}-g2`)).map((p) => ({ id: p.tokenId, active: p.isActive }));
      expect(named.filter((n) => n.active)).toEqual([{ id: now.value.credentialId, active: true }]);
      expect(await isActive(c.kind, old.credentialId!)).toBe('archived');
      const record = (await rt.rotations.get(rotationIds[i]!))!;
      expect(record.orphans.every((o) => o.cleaned)).toBe(true);
      if (point === 'create-answered') expect(record.orphans).toHaveLength(1);
      // The old credential was deactivated only after promote.
      const story = (await rt.audit.read({ limit: 100, rotationId: rotationIds[i]! })).reverse().map((e) => e.action);
      expect(story.indexOf('promoted')).toBeGreaterThan(-1);
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
    expect(await keysContaining(redis, fx.config.redis.prefix, [...secrets, ...SECRET_MARKERS])).toEqual([]);
    const logs = childLogs.join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    for (const s of [...secrets, ...SECRET_MARKERS]) if (s) expect(logs).not.toContain(s);
  });
});
