import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DfnsError, type DfnsApiClient } from '@dfns/sdk';
import { DEFAULT_KNOBS, startSimulator, type RunningSimulator } from '../../src/dfns/simulator/index.js';
import { makeKey, operatorClient, operatorSeed } from './simulator-helpers.js';

/** Rate limit, injected faults and stats, on the simulator clock, through the official SDK. */
async function outcome(promise: Promise<unknown>): Promise<number | 'network'> {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err instanceof DfnsError) return err.httpStatus;
    return 'network';
  }
}

describe('simulator rate limit, faults and stats', () => {
  let sim: RunningSimulator;
  let dfns: DfnsApiClient;

  beforeAll(async () => {
    const operatorKey = makeKey();
    sim = await startSimulator({ seed: operatorSeed(operatorKey) });
    dfns = await operatorClient(sim, operatorKey);
  });
  afterEach(() => sim.setKnobs({ ...DEFAULT_KNOBS }));
  afterAll(() => sim.close());

  function startOfNextMinute(): void {
    sim.clock.advance(60_000 - (sim.clock.now() % 60_000));
  }

  it('answers 429 with Retry-After once the per-minute limit is used, until the window turns', async () => {
    startOfNextMinute();
    sim.setKnobs({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) await dfns.auth.listServiceAccounts();
    const err = await dfns.auth.listServiceAccounts().catch((e: unknown) => e as DfnsError);
    expect(err).toBeInstanceOf(DfnsError);
    expect((err as DfnsError).httpStatus).toBe(429);
    const headers = (err as DfnsError).context as { headers: Headers };
    expect(headers.headers.get('retry-after')).toBe('60');
    sim.clock.advance(45_000);
    const later = (await dfns.auth.listServiceAccounts().catch((e: unknown) => e)) as DfnsError;
    expect(later.httpStatus).toBe(429);
    expect((later.context as { headers: Headers }).headers.get('retry-after')).toBe('15');
    sim.clock.advance(15_000);
    await dfns.auth.listServiceAccounts();
  });

  it('counts the signing calls of a mutation against the limit (3 requests per mutation)', async () => {
    startOfNextMinute();
    sim.setKnobs({ rateLimitPerMinute: 4 });
    sim.resetStats();
    await dfns.auth.createServiceAccount({ body: { name: 'counted', publicKey: makeKey().publicKeyPem } });
    expect(sim.stats().byOperation).toEqual({ ActionInit: 1, ActionSign: 1, CreateServiceAccount: 1 });
    await dfns.auth.listServiceAccounts();
    expect(await outcome(dfns.auth.listServiceAccounts())).toBe(429);
    expect(sim.stats().rateLimited).toBe(1);
  });

  it('sends a fixed Retry-After, or none, as the knob says', async () => {
    startOfNextMinute();
    sim.setKnobs({ rateLimitPerMinute: 1, retryAfterSeconds: 0 });
    await dfns.auth.listServiceAccounts();
    const fixed = (await dfns.auth.listServiceAccounts().catch((e: unknown) => e)) as DfnsError;
    expect((fixed.context as { headers: Headers }).headers.get('retry-after')).toBe('0');
    sim.setKnobs({ retryAfterSeconds: null });
    const none = (await dfns.auth.listServiceAccounts().catch((e: unknown) => e)) as DfnsError;
    expect(none.httpStatus).toBe(429);
    expect((none.context as { headers: Headers }).headers.has('retry-after')).toBe(false);
  });

  it('injects server errors at the configured rate, repeatably for a seed', async () => {
    sim.setKnobs({ faultRate: 0.3, faultKinds: ['server-error'], randomSeed: 42 });
    sim.resetStats();
    const first: (number | 'network')[] = [];
    for (let i = 0; i < 200; i++) first.push(await outcome(dfns.auth.listServiceAccounts()));
    const errors = first.filter((o) => o !== 200);
    expect(errors.every((o) => o === 500 || o === 502 || o === 503)).toBe(true);
    expect(errors.length).toBeGreaterThan(40);
    expect(errors.length).toBeLessThan(80);
    const stats = sim.stats();
    expect(stats.faultsInjected).toBe(errors.length);
    expect(stats.requests).toBe(200);
    expect(stats.byStatus['200']).toBe(200 - errors.length);

    sim.setKnobs({ randomSeed: 42 });
    const again: (number | 'network')[] = [];
    for (let i = 0; i < 200; i++) again.push(await outcome(dfns.auth.listServiceAccounts()));
    expect(again).toEqual(first);
  });

  it('limits faults to faultOperations', async () => {
    sim.setKnobs({ faultRate: 1, faultKinds: ['rate-limited'], faultOperations: ['CreateServiceAccount'] });
    await dfns.auth.listServiceAccounts();
    expect(await outcome(dfns.auth.createServiceAccount({ body: { name: 'faulted', publicKey: makeKey().publicKeyPem } }))).toBe(429);
  });

  it('drop-after performs the mutation and loses the answer; drop-before does not perform it', async () => {
    sim.setKnobs({ faultRate: 1, faultKinds: ['drop-after'], faultOperations: ['CreateServiceAccount'] });
    expect(await outcome(dfns.auth.createServiceAccount({ body: { name: 'ghost-created', publicKey: makeKey().publicKeyPem } }))).toBe('network');
    sim.setKnobs({ faultKinds: ['drop-before'] });
    expect(await outcome(dfns.auth.createServiceAccount({ body: { name: 'never-created', publicKey: makeKey().publicKeyPem } }))).toBe('network');
    sim.setKnobs({ faultRate: 0 });
    const names = (await dfns.auth.listServiceAccounts()).items.map((i) => i.userInfo.name);
    expect(names).toContain('ghost-created');
    expect(names).not.toContain('never-created');
    expect(sim.stats().byStatus.dropped).toBeGreaterThanOrEqual(2);
  });

  it('records arrivals on the simulator clock', async () => {
    sim.resetStats();
    const t0 = sim.clock.now();
    await dfns.auth.listServiceAccounts();
    sim.clock.advance(1234);
    await dfns.auth.listServiceAccounts();
    expect(sim.stats().arrivals).toEqual([t0, t0 + 1234]);
  });

  it('refuses invalid knobs, naming them', () => {
    expect(() => sim.setKnobs({ faultRate: 2 })).toThrow(/faultRate/);
    expect(() => sim.setKnobs({ policyPending: ['Nope' as never] })).toThrow(/policyPending/);
  });
});
