import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DfnsPort } from '../../src/dfns/port.js';
import { seededRandom } from '../../src/dfns/simulator/rng.js';
import { ulid } from '../../src/jobs/queues/ids.js';
import { enqueueRotation } from '../../src/jobs/queues/rotate-queue.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/redis/private-redis.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { OPERATOR, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { LineChild } from '../helpers/line-child.js';
import type { StoreFault } from '../helpers/store-faults.js';

/**
 * Issue 8, done-when: daemons (child processes) SIGKILLed at random points across many rotations,
 * the store turning full or read-only for a while, Redis restarted once without persistence; then
 * the promises are checked:
 * - every managed secret's current token and key work against Dfns;
 * - no active credential in Dfns that no secret refers to (unrelated ones aside);
 * - no credential deactivated while it was a secret's current one (checked as each deactivate arrives);
 * - no unrelated credential touched (no mutation names one; each is active and its token works).
 * Seeded (FAULT_SEED), bounded: every wait has a deadline.
 */
const SEED = Number(process.env.FAULT_SEED ?? 20261201);
const ROUNDS = 8;
const REDIS_RESTART_ROUND = 4;
const SAS = ['pay', 'ledger', 'kyc', 'swap', 'fx', 'vault', 'risk', 'payout', 'treasury'];
const PATS = ['ci', 'deploy', 'ops', 'backup'];
// Unrelated credentials, several named like a replacement the rotations will want.
const FOREIGN_SAS = ['pay-g2', 'kyc-g2', 'fx-g2', 'ledger-g3', 'swap-g3', 'analytics'];
const FOREIGN_PATS = ['ci-g2', 'ops-g3', 'laptop'];
const MUTATIONS = new Set(['DeactivateServiceAccount', 'ArchiveServiceAccount', 'UpdateServiceAccount', 'ActivateServiceAccount', 'DeactivatePat', 'ArchivePat', 'UpdatePat', 'ActivatePat']);

describe('rotations under kills, store faults and a Redis restart without persistence', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  let redisServer: PrivateRedis;
  const random = seededRandom(SEED);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const faultFile = () => join(fx.dir, 'store-fault');
  const foreignIds = new Map<string, string>();
  const violations: string[] = [];
  const checks: Promise<void>[] = [];
  const stats = { rounds: 0, kills: 0, graceful: 0, storeFaults: [] as string[], redisRestarts: 0, rotations: new Set<string>(), answeredThenKilled: 0 };
  let child: LineChild | null = null;

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    fx = await startFixture({
      serviceAccounts: [
        ...SAS.map((name) => ({ name, held: true, ageDays: 10, daysValid: 365 })),
        ...FOREIGN_SAS.map((name) => ({ name, held: true, ageDays: 30, daysValid: 365 })),
      ],
      pats: [
        ...PATS.map((name) => ({ name, owner: OPERATOR, held: true, ageDays: 3, daysValid: 30 })),
        ...FOREIGN_PATS.map((name) => ({ name, owner: OPERATOR, held: true, ageDays: 3, daysValid: 30 })),
      ],
      env: { REDIS_URL: redisServer.url, DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0', DFNS_ROTATOR_DASHBOARD_TOKEN: 'fault-test-token-0123456789' },
    });
    rt = fx.runtime();
    for (const name of SAS) await fx.adopt(name, `sa/${name}`);
    for (const name of PATS) await fx.adopt(name, `pat/${name}`, 'pat');
    operator = (await rt.identities.operator())!;
    for (const sa of await operator.listServiceAccounts()) if (FOREIGN_SAS.includes(sa.name)) foreignIds.set(sa.id, sa.name);
    for (const pat of await operator.listPersonalAccessTokens()) if (FOREIGN_PATS.includes(pat.name)) foreignIds.set(pat.tokenId, pat.name);
    expect(foreignIds.size).toBe(FOREIGN_SAS.length + FOREIGN_PATS.length);

    fx.sim.onArrival(({ operation, path }) => {
      if (!operation || !MUTATIONS.has(operation)) return;
      const id = path.split('/')[3] ?? '';
      if (foreignIds.has(id)) violations.push(`${operation} ${id}: an unrelated credential (${foreignIds.get(id)}) was touched`);
      if (operation === 'DeactivateServiceAccount' || operation === 'DeactivatePat') {
        // Deactivated while some secret's current version holds it? (The store only moves forward.)
        checks.push(rt.store.list().then((summaries) => {
          for (const s of summaries) {
            const current = s.versions.find((v) => v.stages.includes('current'));
            if (current?.metadata.credentialId === id) violations.push(`${id} was deactivated while it was the current credential of ${s.name}`);
          }
        }));
      }
    });
  }, 60_000);

  afterAll(async () => {
    if (child) await child.kill();
    rmSync(faultFile(), { force: true });
    await fx?.close();
    await redisServer?.stop();
  });

  function startChild(): LineChild {
    return new LineChild('fault-worker.ts', { ...fx.env, STORE_FAULT_FILE: faultFile() });
  }

  /**
   * Nothing left to do now. A retire job waiting out its backoff (it met the full store) counts as
   * done: its old credential is still the secret's `previous` version, so it is referred to.
   */
  async function idle(): Promise<boolean> {
    for (const q of [rt.queues.rotate, rt.queues.retire, rt.queues.scan]) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const delayed = q === rt.queues.retire ? 0 : (c.delayed ?? 0);
      if ((c.waiting ?? 0) + (c.active ?? 0) + delayed + (c.prioritized ?? 0) > 0) return false;
    }
    return (await rt.store.list()).every((s) => !s.versions.some((v) => v.stages.includes('pending')));
  }

  /** Polls `done` every 100 ms until it holds or `ms` pass; returns whether it held. */
  async function until(done: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await done()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  const steps = (c: LineChild) => c.lines.filter((l) => l.startsWith('STEP '));

  it('keeps every promise', async () => {
    const secrets = [...SAS.map((n) => `sa/${n}`), ...PATS.map((n) => `pat/${n}`)];
    for (let round = 1; round <= ROUNDS; round++) {
      stats.rounds = round;
      for (let i = 0; i < 8; i++) {
        const secretName = pick(secrets);
        await enqueueRotation(rt.queues.rotate, { secretName, reason: `fault round ${round}`, requestedBy: 'fault-test', rotationId: ulid(Date.now()) }, { backoffDelayMs: 50 });
      }
      const killAfter = 3 + Math.floor(random() * 28);
      // Some rounds aim at the create window: killed as Dfns' answer arrives, before the token is stored.
      const atAnswer = random() < 0.3;
      const fault: StoreFault | null = random() < 0.35 ? pick(['ENOSPC', 'EACCES', 'EROFS'] as const) : null;
      const faultAfter = Math.floor(killAfter / 2);
      child = startChild();
      await child.waitForLine(/^READY$/);
      let lastCount = -1;
      let lastChange = Date.now();
      const c = child;
      await until(async () => {
        const n = steps(c).length;
        if (n !== lastCount) {
          lastCount = n;
          lastChange = Date.now();
        }
        if (fault && n >= faultAfter && !stats.storeFaults.includes(`${round}:${fault}`)) {
          writeFileSync(faultFile(), fault);
          stats.storeFaults.push(`${round}:${fault}`);
        }
        // Killed at its chosen step, or when it sits (e.g. holding a token the store refuses).
        if (atAnswer && c.lines.some((l) => l.startsWith('ANSWERED '))) return true;
        return n >= killAfter || Date.now() - lastChange > 1200 || (n > 0 && (await idle()));
      }, 20_000);
      if (atAnswer && c.lines.some((l) => l.startsWith('ANSWERED '))) {
        await c.kill();
        stats.answeredThenKilled += 1;
      }
      for (const line of steps(c)) stats.rotations.add(line.split(' ')[1]!);
      if (c.process.exitCode !== null || c.process.signalCode !== null) {
        stats.kills += 1;
      } else if (await idle()) {
        c.process.kill('SIGTERM');
        await c.exited;
        stats.graceful += 1;
      } else {
        await c.kill();
        stats.kills += 1;
      }
      child = null;
      rmSync(faultFile(), { force: true }); // the disk has room again, or is writable again
      if (round === REDIS_RESTART_ROUND) {
        // Everything in Redis is gone: queued jobs, rotation records, retire schedules.
        const port = redisServer.port;
        await redisServer.stop();
        redisServer = await startPrivateRedis('redis-server', { port });
        stats.redisRestarts += 1;
        await until(async () => (await rt.redis.ping().catch(() => null)) === 'PONG', 10_000);
      }
    }

    // A healthy daemon and its scans finish or adopt whatever was left. A job BullMQ failed as
    // stalled after the first scan ran waits for the next scan (the schedule's next tick in
    // production): scan again while something is left, like ticks would, up to 30 s in all.
    child = startChild();
    await child.waitForLine(/^READY$/);
    let settled = false;
    for (let tick = 0; tick < 3 && !settled; tick++) {
      await rt.queues.scan.add('scan', { trigger: 'manual' });
      settled = await until(idle, 10_000);
    }
    const last = child;
    for (const line of steps(last)) stats.rotations.add(line.split(' ')[1]!);
    last.process.kill('SIGTERM');
    await last.exited;
    child = null;
    if (!settled) {
      const pending = [];
      for (const s of await rt.store.list()) {
        const p = s.versions.find((v) => v.stages.includes('pending'));
        if (p) pending.push(`${s.name}: pending of ${p.metadata.rotationId} at ${(await rt.rotations.get(p.metadata.rotationId ?? ''))?.step ?? 'no record'}`);
      }
      const counts = await Promise.all([rt.queues.rotate, rt.queues.retire, rt.queues.scan].map(async (q) => `${q.name} ${JSON.stringify(await q.getJobCounts('waiting', 'active', 'delayed', 'failed'))}`));
      violations.push(`rotations did not settle within 30 s: ${pending.join('; ')}; ${counts.join('; ')}; child log tail: ${last.stderr.split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-8).join('\n')}`);
    }
    await Promise.all(checks);

    // Every managed secret's current token and key work.
    const referenced = new Set<string>();
    for (const name of secrets) {
      const record = (await rt.store.get(name))!;
      for (const v of record.versions) if (v.value.credentialId) referenced.add(v.value.credentialId);
      const current = versionWithStage(record.versions, 'current')!;
      const port = rt.identities.asSecret(current.value, `check ${name}`);
      try {
        await port.listPersonalAccessTokens();
        await port.proveSigning();
      } catch (err) {
        violations.push(`${name}: its current credential ${current.value.credentialId} does not work: ${(err as Error).message}`);
      }
    }
    // No active credential that no secret refers to; the unrelated ones active and working.
    const active = [
      ...(await operator.listServiceAccounts()).filter((s) => s.isActive).map((s) => ({ id: s.id, name: s.name })),
      ...(await operator.listPersonalAccessTokens()).filter((p) => p.isActive).map((p) => ({ id: p.tokenId, name: p.name })),
    ];
    for (const a of active) if (!referenced.has(a.id) && !foreignIds.has(a.id)) violations.push(`${a.id} (${a.name}) is active and no secret refers to it`);
    for (const [id, name] of foreignIds) {
      if (!active.some((a) => a.id === id)) violations.push(`unrelated ${name} (${id}) is no longer active`);
      const held = fx.keys.get(name)!;
      const kind = FOREIGN_PATS.includes(name) ? 'pat' as const : 'service-account' as const;
      const port = rt.identities.asSecret({ kind, orgId: fx.sim.orgId, baseUrl: fx.sim.url, credentialId: id, name, credId: held.credId, accessToken: fx.sim.seededTokens.get(name)!, privateKeyPem: held.key.privateKeyPem, publicKeyPem: held.key.publicKeyPem, algorithm: 'ecdsa-p256', expiresAt: null }, `unrelated ${name}`);
      await port.proveSigning().catch((err: Error) => violations.push(`unrelated ${name}: its token no longer works: ${err.message}`));
    }

    const report = {
      seed: SEED,
      trials: stats.rotations.size,
      rounds: stats.rounds,
      kills: stats.kills,
      killedRightAfterAnAnswer: stats.answeredThenKilled,
      gracefulStops: stats.graceful,
      storeFaults: stats.storeFaults,
      redisRestartsWithoutPersistence: stats.redisRestarts,
      violations: violations.length,
    };
    console.log(`fault test: ${JSON.stringify(report)}`);
    expect(violations).toEqual([]);
    expect(stats.rotations.size).toBeGreaterThanOrEqual(10);
    expect(stats.kills).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
