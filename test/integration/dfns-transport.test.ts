// Imported first on purpose: the plain SDK is loaded before the project's client, the order that
// would defeat an in-place patch of cross-fetch (see src/dfns/sdk-loader.ts).
import { DfnsApiClient, DfnsAuthenticator } from '@dfns/sdk';
import { AsymmetricKeySigner } from '@dfns/sdk-keysigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DfnsClientError } from '../../src/dfns/errors.js';
import { generateKeyPair } from '../../src/dfns/keys.js';
import { loadSdk } from '../../src/dfns/sdk-loader.js';
import { SEAM_BROKEN_MESSAGE, runInTransport, type RequestEvent } from '../../src/dfns/transport.js';
import { OPERATOR, OPERATOR_CRED_ID, startHarness, type Harness } from '../helpers/dfns-client.js';

describe('transport seam', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sim.close());

  it('sees every request of a mutation: 3 limiter tokens, steps, templated routes', async () => {
    const operator = h.operator();
    const { record } = await operator.createServiceAccount({ name: 'seam', publicKeyPem: (await generateKeyPair()).publicKeyPem });
    const granted = h.limiter.stats().granted;
    const start = h.events.length;
    await operator.deactivateServiceAccount(record.id);
    expect(h.limiter.stats().granted - granted).toBe(3);
    const events = h.events.slice(start).map(({ operation, method, route, step, signed, status }) => ({ operation, method, route, step, signed, status }));
    expect(events).toEqual([
      { operation: 'deactivateServiceAccount', method: 'POST', route: '/auth/action/init', step: 'action-init', signed: false, status: 200 },
      { operation: 'deactivateServiceAccount', method: 'POST', route: '/auth/action', step: 'action-sign', signed: false, status: 200 },
      { operation: 'deactivateServiceAccount', method: 'PUT', route: '/auth/service-accounts/:id/deactivate', step: 'call', signed: true, status: 200 },
    ]);
    for (const e of h.events.slice(start)) {
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(e.startedAt).toBe(h.sim.clock.now());
    }
  });

  it('leaves the plain SDK in the same process untouched, even though it was loaded first', async () => {
    const granted = h.limiter.stats().granted;
    const events = h.events.length;
    const signer = new AsymmetricKeySigner({ credId: OPERATOR_CRED_ID, privateKey: h.operatorKey.privateKeyPem });
    const { token } = (await new DfnsAuthenticator({ baseUrl: h.sim.url, signer }).login({ username: OPERATOR, orgId: h.sim.orgId })) as { token: string };
    const plain = new DfnsApiClient({ baseUrl: h.sim.url, orgId: h.sim.orgId, authToken: token, signer });
    expect((await plain.auth.listServiceAccounts()).items.length).toBeGreaterThan(0);
    // Not counted, not observed: the plain SDK's cross-fetch is the original one.
    expect(h.limiter.stats().granted).toBe(granted);
    expect(h.events.length).toBe(events);
    expect(loadSdk().sdk.DfnsApiClient).not.toBe(DfnsApiClient);
  });

  it('fails loudly when an SDK call completes without the seam seeing a request', async () => {
    const signer = new AsymmetricKeySigner({ credId: OPERATOR_CRED_ID, privateKey: h.operatorKey.privateKeyPem });
    const observed: RequestEvent[] = [];
    const context = { operation: 'listServiceAccounts', timeoutMs: 1_000, limiter: h.limiter, observer: (e: RequestEvent) => observed.push(e) };
    // Stands in for an SDK upgrade that stops using the cross-fetch it was given: the plain SDK's
    // requests bypass the wrapper, inside our context.
    const bypassing = () => new DfnsAuthenticator({ baseUrl: h.sim.url, signer }).login({ username: OPERATOR, orgId: h.sim.orgId });
    const err = await runInTransport(context, bypassing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsClientError);
    expect((err as Error).message).toBe(`listServiceAccounts: ${SEAM_BROKEN_MESSAGE}`);
    expect(observed).toEqual([]);

    // The same call through our SDK instance is seen.
    const ours = loadSdk();
    const seen = await runInTransport(context, () =>
      new ours.sdk.DfnsAuthenticator({ baseUrl: h.sim.url, signer }).login({ username: OPERATOR, orgId: h.sim.orgId }),
    );
    expect(seen.ok).toBe(true);
    expect(seen.requests.map((r) => r.step)).toEqual(['login-init', 'login']);
    expect(observed.map((e) => e.route)).toEqual(['/auth/login/init', '/auth/login']);
  });

  it('hands the SDK a JSON success already decoded, readable as json, text, buffer or arrayBuffer alike', async () => {
    const signer = new AsymmetricKeySigner({ credId: OPERATOR_CRED_ID, privateKey: h.operatorKey.privateKeyPem });
    const { token } = (await new DfnsAuthenticator({ baseUrl: h.sim.url, signer }).login({ username: OPERATOR, orgId: h.sim.orgId })) as { token: string };
    const apiOptions = { baseUrl: h.sim.url, orgId: h.sim.orgId, authToken: token };
    const context = { operation: 'listServiceAccounts', timeoutMs: 1_000, limiter: h.limiter };
    const { fetch: ours } = loadSdk();
    const read = async () => {
      const result = await runInTransport(context, () => ours.simpleFetch('/auth/service-accounts', { method: 'GET', apiOptions }));
      if (!result.ok) throw result.error;
      return result.value as unknown as { json(): Promise<unknown>; text(): Promise<string>; buffer(): Promise<Buffer>; arrayBuffer(): Promise<ArrayBuffer> };
    };
    const direct = await (await fetch(`${h.sim.url}/auth/service-accounts`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect((direct as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect(await (await read()).json()).toEqual(direct);
    expect(JSON.parse(await (await read()).text())).toEqual(direct);
    expect(JSON.parse((await (await read()).buffer()).toString('utf8'))).toEqual(direct);
    expect(JSON.parse(Buffer.from(await (await read()).arrayBuffer()).toString('utf8'))).toEqual(direct);
  });

  it('reports failures thrown before any request as client errors, not a broken seam', async () => {
    const context = { operation: 'proveSigning', timeoutMs: 1_000, limiter: h.limiter };
    const result = await runInTransport(context, async () => {
      throw Object.assign(new Error('A "signer" needs to be passed to Dfns client.'), { name: 'DfnsError', httpStatus: -1 });
    });
    expect(result.ok).toBe(false);
    expect(result.requests).toEqual([]);
  });
});
