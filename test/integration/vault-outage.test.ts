import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { versionWithStage } from '../../src/secrets/stages.js';
import { runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * Issue 10 with the engine's held-token rule: Vault failing (5xx beyond the adapter's retries)
 * just as Dfns shows a new token is an outage like a full disk. The token is held in memory and
 * written once Vault answers again: no orphan, no second create.
 */
describe('Vault failing right after Dfns created the replacement', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      store: 'vault',
      serviceAccounts: [{ name: 'outage', held: true, ageDays: 355, daysValid: 365, permission: 'Reader' }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '1', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    const vault = () => fx.store.vault!;
    // One more failure than one call's retries: the first token write fails, the held retry succeeds.
    rt = fx.runtime({ rotationHooks: { afterCreateAnswered: async () => vault().failNext(6, 503, 'POST secret/data/dfns-rotator/.rotator/sa/outage') } });
    await fx.adopt('outage', 'sa/outage');
    rt.startWorkers();
  });
  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  it('holds the token until Vault takes it, then finishes the rotation with one replacement', async () => {
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'sa/outage', reason: 'vault outage', requestedBy: 'test' });
    expect(result.step).toBe('retire-scheduled');
    const failed = fx.store.vault!.requests.filter((r) => r.method === 'POST' && r.path === 'secret/data/dfns-rotator/.rotator/sa/outage' && r.status === 503);
    expect(failed).toHaveLength(6);
    expect(fx.logs.join('')).toContain('the secret store took the held token');

    const operator = (await rt.identities.operator())!;
    const replacements = (await operator.listServiceAccounts()).filter((s) => s.name.startsWith('outage-g'));
    expect(replacements.map((s) => s.name)).toEqual(['outage-g2']);
    const current = versionWithStage((await rt.store.get('sa/outage'))!.versions, 'current')!;
    expect(current.value.credentialId).toBe(replacements[0]!.id);
    const record = (await rt.rotations.recent(5)).find((r) => r.secretName === 'sa/outage')!;
    expect(record.orphans).toEqual([]);
  });
});
