import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import { DfnsClientError, DfnsPolicyPendingError, DfnsUnauthorizedError } from '../../src/dfns/errors.js';
import { readTokenExpiry, readTokenIdentity } from '../../src/dfns/jwt.js';
import { generateKeyPair } from '../../src/dfns/keys.js';
import type { DfnsPort, KeyAlgorithm } from '../../src/dfns/port.js';
import { OPERATOR_CRED_ID, READER_PERMISSION_ID, startHarness, type Harness } from '../helpers/dfns-client.js';

/** The project's Dfns client against the simulator, over real HTTP, through the official SDK. */
const ALGORITHMS: KeyAlgorithm[] = ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1', 'rsa-2048'];

describe.each(ALGORITHMS)('Dfns client on the simulator, %s keys', (algorithm) => {
  let h: Harness;
  let operator: DfnsPort;

  beforeAll(async () => {
    h = await startHarness({ algorithm });
    operator = h.operator();
  });
  afterAll(() => h.sim.close());

  it('runs the service-account life cycle, and the new SA works with its own token and key', async () => {
    const saKey = await generateKeyPair(algorithm);
    const created = await operator.createServiceAccount({
      name: `payments-${algorithm}`,
      publicKeyPem: saKey.publicKeyPem,
      daysValid: 90,
      permissionId: READER_PERMISSION_ID,
      externalId: `rotator:${algorithm}`,
    });
    const now = h.sim.clock.now();
    const { record, accessToken } = created;
    expect(record).toMatchObject({ name: `payments-${algorithm}`, orgId: h.sim.orgId, isActive: true });
    expect(record.id).toMatch(/^us-/);
    expect(record.permissionAssignments?.map((a) => a.permissionId)).toEqual([READER_PERMISSION_ID]);
    expect(record.accessTokens).toHaveLength(1);
    expect(JSON.stringify(record)).not.toContain(accessToken); // records never hold the token
    const expiry = readTokenExpiry(accessToken);
    expect(expiry.kind).toBe('expires');
    if (expiry.kind === 'expires') expect(Math.abs(expiry.expiresAt - (now + 90 * DAY_MS))).toBeLessThan(1_000);
    expect(readTokenIdentity(accessToken)).toMatchObject({ orgId: h.sim.orgId, userId: record.id, kind: 'ServiceAccount' });

    expect((await operator.listServiceAccounts()).map((sa) => sa.id)).toContain(record.id);
    expect((await operator.getServiceAccount(record.id)).accessTokens[0]?.tokenId).toBe(record.accessTokens[0]?.tokenId);

    const credId = record.accessTokens[0]?.credId;
    expect(credId).toBeTruthy();
    const asSa = h.tokenPort(accessToken, { credId: credId!, privateKeyPem: saKey.privateKeyPem });
    expect(asSa.identity).toBe(`token ServiceAccount ${record.accessTokens[0]?.tokenId}`);
    expect((await asSa.listServiceAccounts()).some((sa) => sa.id === record.id)).toBe(true);
    await asSa.proveSigning();

    expect((await operator.deactivateServiceAccount(record.id)).isActive).toBe(false);
    expect((await operator.activateServiceAccount(record.id)).isActive).toBe(true);
    await operator.archiveServiceAccount(record.id);
    expect((await operator.listServiceAccounts()).map((sa) => sa.id)).not.toContain(record.id);
  });

  it('runs the PAT life cycle for the operator', async () => {
    const patKey = await generateKeyPair(algorithm);
    const { record, accessToken } = await operator.createPersonalAccessToken({
      name: `ci-${algorithm}`,
      publicKeyPem: patKey.publicKeyPem,
      secondsValid: 3_600,
      externalId: `rotator:pat-${algorithm}`,
    });
    expect(record).toMatchObject({ kind: 'Pat', name: `ci-${algorithm}`, isActive: true });
    expect(record.tokenId).toMatch(/^to-/);
    expect(readTokenExpiry(accessToken)).toEqual({ kind: 'expires', expiresAt: Math.floor(h.sim.clock.now() / 1000) * 1000 + 3_600_000 });

    expect((await operator.listPersonalAccessTokens()).map((p) => p.tokenId)).toContain(record.tokenId);
    expect((await operator.getPersonalAccessToken(record.tokenId)).name).toBe(`ci-${algorithm}`);
    expect((await operator.deactivatePersonalAccessToken(record.tokenId)).isActive).toBe(false);
    expect((await operator.activatePersonalAccessToken(record.tokenId)).isActive).toBe(true);

    const asPat = h.tokenPort(accessToken, { credId: record.credId, privateKeyPem: patKey.privateKeyPem });
    await asPat.proveSigning();
    expect((await asPat.listPersonalAccessTokens()).map((p) => p.tokenId)).toContain(record.tokenId);

    await operator.archivePersonalAccessToken(record.tokenId);
    expect((await operator.listPersonalAccessTokens()).map((p) => p.tokenId)).not.toContain(record.tokenId);
  });

  it('registers a new Key credential for the operator, which then signs; deactivation disables it', async () => {
    const newKey = await generateKeyPair(algorithm);
    const credential = await operator.createKeyCredential({ name: `rotated-${algorithm}`, ...newKey });
    expect(credential).toMatchObject({ kind: 'Key', name: `rotated-${algorithm}`, isActive: true });
    expect(credential.credentialId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await operator.listCredentials();
    expect(listed.map((c) => c.credentialUuid)).toEqual(expect.arrayContaining([credential.credentialUuid]));
    expect(listed.find((c) => c.credentialId === OPERATOR_CRED_ID)?.isActive).toBe(true);

    const withNewKey = h.operator({ identity: { kind: 'operator', username: 'operator@acme.test', credId: credential.credentialId, privateKeyPem: newKey.privateKeyPem } });
    await withNewKey.proveSigning();

    await operator.deactivateCredential(credential.credentialUuid);
    const refused = await h.operator({ identity: { kind: 'operator', username: 'operator@acme.test', credId: credential.credentialId, privateKeyPem: newKey.privateKeyPem } })
      .proveSigning()
      .catch((e: unknown) => e);
    // Login itself offers only active credentials: the SDK signer refuses before anything is signed.
    expect(refused).toBeInstanceOf(DfnsClientError);
    expect((refused as DfnsClientError).message).toContain('does not match allowed credentials');

    await operator.activateCredential(credential.credentialUuid);
    await h.operator({ identity: { kind: 'operator', username: 'operator@acme.test', credId: credential.credentialId, privateKeyPem: newKey.privateKeyPem } }).proveSigning();
  });

  it('proves the operator key signs', async () => {
    await operator.proveSigning();
  });
});

describe('operator login', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ knobs: { loginTokenSeconds: 600 } });
  });
  afterAll(() => h.sim.close());

  const logins = () => h.events.filter((e) => e.route === '/auth/login' && e.status === 200).length;

  it('is cached until shortly before exp, then refreshed as the simulator clock passes it', async () => {
    const operator = h.operator({ loginRefreshMarginMs: 60_000 });
    // JWT exp is in whole seconds: start on a second boundary so "1 ms before" is exact.
    h.sim.clock.set(Math.ceil(h.sim.clock.now() / 1000) * 1000);
    const before = logins();
    await operator.listServiceAccounts();
    await Promise.all([operator.listServiceAccounts(), operator.listPersonalAccessTokens(), operator.proveSigning()]);
    expect(logins() - before).toBe(1);

    h.sim.clock.advance(540_000 - 1); // 1 ms before exp - margin
    await operator.listServiceAccounts();
    expect(logins() - before).toBe(1);

    h.sim.clock.advance(1);
    await operator.listServiceAccounts();
    expect(logins() - before).toBe(2);

    h.sim.clock.advance(3 * 600_000); // well past exp
    await operator.listPersonalAccessTokens();
    expect(logins() - before).toBe(3);
  });

  it('logs in again once after a 401 and redoes the call', async () => {
    // The client's clock lags the simulator's: its cached token looks fresh but Dfns says expired.
    const { ManualClock } = await import('../../src/clock.js');
    const laggingClock = new ManualClock(h.sim.clock.now());
    const operator = h.operator({ clock: laggingClock });
    await operator.listServiceAccounts();
    const before = logins();
    h.sim.clock.advance(700_000);
    const start = h.events.length;
    await expect(operator.listServiceAccounts()).resolves.toBeInstanceOf(Array);
    const statuses = h.events.slice(start).map((e) => `${e.route} ${e.status}`);
    expect(statuses).toEqual([
      '/auth/service-accounts 401',
      '/auth/login/init 200',
      '/auth/login 200',
      '/auth/service-accounts 200',
    ]);
    expect(logins() - before).toBe(1);
  });

  it('names the operator in identity, without secrets', () => {
    const operator = h.operator();
    expect(operator.identity).toBe('operator operator@acme.test');
  });
});

describe('Dfns answers the client stops on', () => {
  let h: Harness;
  let saKey: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    saKey = await generateKeyPair('ed25519');
    h = await startHarness({
      seed: () => ({
        serviceAccounts: [
          { name: 'short-lived', publicKeyPem: saKey.publicKeyPem, credId: 'short-lived-key', permission: 'Reader', daysValid: 1 },
        ],
      }),
    });
  });
  afterAll(() => h.sim.close());

  it('202 (policy approval) -> DfnsPolicyPendingError with the approval id, never retried', async () => {
    const operator = h.operator();
    const { record } = await operator.createServiceAccount({ name: 'held', publicKeyPem: (await generateKeyPair()).publicKeyPem });
    h.sim.setKnobs({ policyPending: ['DeactivateServiceAccount'] });
    const start = h.events.length;
    const err = await operator.deactivateServiceAccount(record.id).catch((e: unknown) => e);
    h.sim.setKnobs({ policyPending: [] });
    expect(err).toBeInstanceOf(DfnsPolicyPendingError);
    const pending = err as DfnsPolicyPendingError;
    expect(pending).toMatchObject({ code: 'DFNS_POLICY_PENDING', operation: 'deactivateServiceAccount', status: 202, attempts: 1 });
    expect(pending.approvalId).toMatch(/^ap-/);
    expect(h.events.slice(start).map((e) => e.step)).toEqual(['action-init', 'action-sign', 'call']);
    expect((await operator.getServiceAccount(record.id)).isActive).toBe(true);
  });

  it('401 on an expired token -> DfnsUnauthorizedError, not retried', async () => {
    const token = h.sim.seededTokens.get('short-lived');
    expect(token).toBeTruthy();
    const port = h.tokenPort(token!, { credId: 'short-lived-key', privateKeyPem: saKey.privateKeyPem });
    await port.listServiceAccounts();
    h.sim.clock.advance(2 * DAY_MS);
    const start = h.events.length;
    const err = await port.listServiceAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsUnauthorizedError);
    expect(err).toMatchObject({ code: 'DFNS_UNAUTHORIZED', operation: 'listServiceAccounts', status: 401, attempts: 1 });
    expect(h.events.length - start).toBe(1);
  });

  it('mutations without a signing key fail before any request', async () => {
    const token = h.sim.seededTokens.get('short-lived')!;
    const port = h.tokenPort(token);
    const start = h.events.length;
    await expect(port.deactivateServiceAccount('us-x')).rejects.toMatchObject({ code: 'DFNS_CLIENT', operation: 'deactivateServiceAccount' });
    await expect(port.proveSigning()).rejects.toThrow(/has no signing key configured/);
    expect(h.events.length).toBe(start);
  });
});
