import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/dfns/keys.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import type { SimKnobs } from '../../src/dfns/simulator/index.js';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import type { Notification } from '../../src/notify/types.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { drain, OPERATOR, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 8, "a retried rotation retires someone else's credential": an unrelated service account
 * or PAT that happens to carry the replacement's name (`<name>-g2`) must survive every path that
 * used to claim it as the rotation's own lost create — a kill before the create was sent, a
 * create whose call budget ran out on transient failures, and a 409 for the name — for both
 * kinds, whether listings show the key as a fingerprint or a PEM, with or without externalId.
 * When nothing can prove whose it is, it is left alone and people are told.
 */
type Kind = 'sa' | 'pat';
type Path = 'kill' | 'budget' | 'conflict';

const PATHS: Path[] = ['kill', 'budget', 'conflict'];
const LISTINGS: { label: string; knobs: Partial<SimKnobs>; proven: boolean }[] = [
  { label: 'fingerprint, no externalId', knobs: { listedPublicKey: 'fingerprint', listIncludesExternalId: false }, proven: true },
  { label: 'PEM, with externalId', knobs: { listedPublicKey: 'pem', listIncludesExternalId: true }, proven: true },
  { label: 'no key, no externalId', knobs: { listedPublicKey: 'empty', listIncludesExternalId: false }, proven: false },
];
const CASES = LISTINGS.flatMap((l, li) => (['sa', 'pat'] as Kind[]).flatMap((kind) => PATHS.map((path) => ({ kind, path, listing: l, base: `${kind}-${path}-${li}` }))));

describe('a foreign credential named like the replacement', () => {
  let fx: Fixture;
  let rt: Runtime;
  let operator: DfnsPort;
  const redis = newRedis();
  const sent: Notification[] = [];
  /** What each test arms: runs after every saved rotation step. */
  let afterStep: ((r: RotationRecord) => void | Promise<void>) | undefined;

  beforeAll(async () => {
    // The colliding credentials of the `conflict` path appear only between the rotation's name
    // check and its create; the others exist from the start.
    fx = await startFixture({
      serviceAccounts: CASES.filter((c) => c.kind === 'sa').flatMap((c) => [
        { name: c.base, held: true, ageDays: 300, daysValid: 365 },
        ...(c.path === 'conflict' ? [] : [{ name: `${c.base}-g2`, held: true, ageDays: 10, daysValid: 365 }]),
      ]),
      pats: CASES.filter((c) => c.kind === 'pat').flatMap((c) => [
        { name: c.base, owner: OPERATOR, held: true, ageDays: 20, daysValid: 30 },
        ...(c.path === 'conflict' ? [] : [{ name: `${c.base}-g2`, owner: OPERATOR, held: true, ageDays: 5, daysValid: 30 }]),
      ]),
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    rt = fx.runtime({
      notifier: { description: 'test', send: async (n) => void sent.push(n) },
      rotationHooks: { afterStep: (r) => afterStep?.(r) },
    });
    for (const c of CASES) await fx.adopt(c.base, `${c.kind}/${c.base}`, c.kind === 'sa' ? 'service-account' : 'pat');
    rt.startWorkers();
    operator = (await rt.identities.operator())!;
  }, 60_000);

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  async function rotate(secret: string): Promise<RotateResult> {
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: secret, reason: 'issue 8', requestedBy: 'test' }, { attempts: 4, backoff: { type: 'fixed', delay: 10 } });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    await drain(rt.queues.notify);
    return result;
  }

  async function listed(kind: Kind): Promise<{ id: string; name: string; isActive: boolean }[]> {
    return kind === 'sa'
      ? (await operator.listServiceAccounts()).map((s) => ({ id: s.id, name: s.name, isActive: s.isActive }))
      : (await operator.listPersonalAccessTokens()).map((p) => ({ id: p.tokenId, name: p.name, isActive: p.isActive }));
  }

  /** Arms the path's fault; returns the foreign credential's id once it exists. */
  function arm(c: (typeof CASES)[number]): () => string | undefined {
    const foreignName = `${c.base}-g2`;
    let foreignId: string | undefined;
    if (c.path === 'kill') {
      // The worker dies after `creating` was saved and before the create was sent.
      let killed = false;
      afterStep = (r) => {
        if (r.secretName === `${c.kind}/${c.base}` && r.step === 'creating' && !killed) {
          killed = true;
          throw new Error('simulated crash before the create was sent');
        }
      };
    } else if (c.path === 'budget') {
      // Every user-action challenge of the create answers 5xx until the call budget is spent; the
      // job fails, BullMQ retries it, and the resumed rotation must reconcile.
      let armed = false;
      let seen = 0;
      afterStep = (r) => {
        if (r.secretName === `${c.kind}/${c.base}` && r.step === 'creating' && seen === 0) {
          armed = true;
          fx.sim.setKnobs({ faultRate: 1, faultKinds: ['server-error'], faultOperations: ['ActionInit'] });
        }
      };
      const off = fx.sim.onArrival((a) => {
        if (!armed || a.operation !== 'ActionInit') return;
        seen += 1;
        if (seen > fx.config.dfns.maxAttempts) {
          armed = false;
          fx.sim.setKnobs({ faultRate: 0 });
          off();
        }
      });
    } else {
      // Someone creates the name between the rotation's name check and its create: Dfns answers 409.
      let stage: 'idle' | 'armed' | 'listed' | 'done' = 'idle';
      afterStep = (r) => {
        if (r.secretName === `${c.kind}/${c.base}` && r.step === 'creating' && stage === 'idle') stage = 'armed';
      };
      const off = fx.sim.onArrival((a) => {
        if (stage === 'armed' && (a.operation === 'ListServiceAccounts' || a.operation === 'ListPats')) stage = 'listed';
        else if (stage === 'listed' && a.operation === 'ActionInit') {
          stage = 'done';
          off();
          foreignId = c.kind === 'sa'
            ? fx.sim.addServiceAccount({ name: foreignName, publicKeyPem: foreignKey })
            : fx.sim.addPat({ owner: OPERATOR, name: foreignName, publicKeyPem: foreignKey });
        }
      });
    }
    return () => foreignId;
  }

  let foreignKey: string;
  beforeAll(async () => {
    foreignKey = (await generateKeyPair('ecdsa-p256')).publicKeyPem;
  });

  it.each(CASES.map((c) => [`${c.kind === 'sa' ? 'service account' : 'PAT'}, ${c.path}, listed as ${c.listing.label}`, c] as const))('%s: survives untouched', async (_, c) => {
    fx.sim.setKnobs({ faultRate: 0, ...c.listing.knobs });
    const foreignName = `${c.base}-g2`;
    const foreignAtStart = (await listed(c.kind)).find((x) => x.name === foreignName)?.id;
    const foreignLater = arm(c);
    const sentBefore = sent.length;

    const result = await rotate(`${c.kind}/${c.base}`);
    afterStep = undefined;
    fx.sim.setKnobs({ faultRate: 0, listedPublicKey: 'fingerprint', listIncludesExternalId: false });

    const foreignId = foreignAtStart ?? foreignLater();
    expect(foreignId).toBeDefined();
    expect(result.step).toBe('retire-scheduled');
    // The path really ran: a killed or budget-exhausted attempt made BullMQ run the job again.
    const job = (await rt.queues.rotate.getJobs(['completed'])).find((j) => j.data.rotationId === result.rotationId)!;
    expect(job.attemptsMade).toBe(c.path === 'conflict' ? 1 : 2);
    // The foreign credential is still there and active, and (seeded ones) its token still works.
    const foreign = (await listed(c.kind)).find((x) => x.id === foreignId);
    expect(foreign).toEqual({ id: foreignId, name: foreignName, isActive: true });
    if (foreignAtStart) {
      const held = fx.keys.get(foreignName)!;
      const port = rt.identities.asSecret({ kind: c.kind === 'sa' ? 'service-account' : 'pat', orgId: fx.sim.orgId, baseUrl: fx.sim.url, credentialId: foreignId!, name: foreignName, credId: held.credId, accessToken: fx.sim.seededTokens.get(foreignName)!, privateKeyPem: held.key.privateKeyPem, publicKeyPem: held.key.publicKeyPem, algorithm: 'ecdsa-p256', expiresAt: null }, 'foreign');
      await port.listPersonalAccessTokens();
      await port.proveSigning();
    }
    // The rotation went on under the next name, and nothing else of ours is left behind.
    const current = versionWithStage((await rt.store.get(`${c.kind}/${c.base}`))!.versions, 'current')!;
    expect(current.value.credentialId).toBe(result.newCredentialId);
    expect(current.value.name).toBe(`${c.base}-g2-2`);
    const ours = (await listed(c.kind)).filter((x) => x.name.startsWith(`${c.base}-g2`) && x.id !== foreignId);
    expect(ours).toEqual([{ id: result.newCredentialId, name: `${c.base}-g2-2`, isActive: true }]);
    const record = (await rt.rotations.get(result.rotationId))!;
    expect(record.orphans).toEqual([]);
    const story = (await rt.audit.read({ limit: 100, rotationId: result.rotationId })).reverse();
    expect(story.find((e) => e.action === 'name-taken')?.detail).toContain(`${foreignId} holds the name ${foreignName}`);
    // When nothing could prove whose it is, a person is told (once). Provably foreign (another key,
    // another externalId, or created before this rotation's create began): nobody is bothered.
    const attention = sent.slice(sentBefore).filter((n) => n.type === 'rotation-attention');
    if (c.listing.proven || c.path !== 'conflict') expect(attention).toEqual([]);
    else {
      expect(attention).toHaveLength(1);
      expect(attention[0]).toMatchObject({ rotationId: result.rotationId, problem: expect.stringContaining(`${foreignId} is named ${foreignName}`) });
    }
  });
});
