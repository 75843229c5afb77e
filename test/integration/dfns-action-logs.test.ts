import { DfnsApiClient, DfnsAuthenticator } from '@dfns/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner } from '../../src/dfns/key-signer.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import { startHarness, type Harness } from '../helpers/dfns-client.js';

/**
 * The port's `listActionLogs` against the simulator's audit log: signed actions only (reads are
 * invisible), filtered by user and time, the signing credential named, the truncation flag
 * followed, and a 403 without `Auth:Logs:Read`.
 */
describe('listActionLogs', () => {
  let h: Harness;
  let auditor: DfnsPort;
  let operator: DfnsPort;

  beforeAll(async () => {
    h = await startHarness({
      seed: (operatorKey) => ({
        permissions: [{ name: 'Auditor', operations: ['Auth:Logs:Read'] }],
        users: [{ username: 'auditor@acme.test', permissions: ['Auditor'], credentials: [{ credId: 'auditor-key', publicKeyPem: operatorKey.publicKeyPem }] }],
        serviceAccounts: [{ name: 'target', daysValid: 365 }],
      }),
    });
    operator = h.operator();
    auditor = h.operator({ identity: { kind: 'operator', username: 'auditor@acme.test', credId: 'auditor-key', privateKeyPem: h.operatorKey.privateKeyPem } });
  });
  afterAll(() => h.sim.close());

  it('lists who signed what, by user and time; reads are not logged; 403 without the permission', async () => {
    const start = h.sim.clock.now();
    const target = (await operator.listServiceAccounts()).find((s) => s.name === 'target')!;
    await operator.deactivateServiceAccount(target.id);
    h.sim.clock.advance(60_000);
    await operator.activateServiceAccount(target.id);
    const end = h.sim.clock.now();

    const all = await auditor.listActionLogs({ startTime: start, endTime: end });
    expect(all.truncated).toBe(false);
    expect(all.entries.map((e) => e.actionPath)).toEqual([`/auth/service-accounts/${target.id}/deactivate`, `/auth/service-accounts/${target.id}/activate`]);
    const signer = h.sim.actionLog()[0]!;
    expect(all.entries[0]).toMatchObject({ userId: signer.userId, username: 'operator@acme.test', credentialId: signer.credentialUuid, datePerformed: start });
    expect(signer.credentialUuid).toMatch(/^cr-/);

    expect((await auditor.listActionLogs({ startTime: start + 1, endTime: end })).entries).toHaveLength(1);
    expect((await auditor.listActionLogs({ startTime: start, endTime: end, userId: 'us-nobody-00000-0000000000000000' })).entries).toEqual([]);

    h.sim.setKnobs({ actionLogMaxRows: 1 });
    const cut = await auditor.listActionLogs({ startTime: start, endTime: end });
    expect(cut).toMatchObject({ truncated: true, entries: [expect.objectContaining({ actionPath: `/auth/service-accounts/${target.id}/deactivate` })] });
    h.sim.setKnobs({ actionLogMaxRows: 100_000 });

    await expect(operator.listActionLogs({ startTime: start, endTime: end })).rejects.toMatchObject({ code: 'DFNS_FORBIDDEN' });
  });

  it("answers the official SDK's getAuditLog in the documented shape; its listAuditLogs cannot read the CSV (why the port reads it as text)", async () => {
    const login = await new DfnsAuthenticator({ baseUrl: h.sim.url, signer: new KeySigner({ credId: 'auditor-key', privateKey: h.operatorKey.privateKeyPem }) }).login({ username: 'auditor@acme.test', orgId: h.sim.orgId });
    const sdk = new DfnsApiClient({ baseUrl: h.sim.url, orgId: h.sim.orgId, authToken: (login as { token: string }).token });
    const logged = h.sim.actionLog()[0]!;
    expect(await sdk.auth.getAuditLog({ id: logged.id })).toMatchObject({
      id: logged.id, userId: logged.userId, username: logged.username, datePerformed: new Date(logged.datePerformed).toISOString(),
      firstFactorCredential: { id: logged.credentialUuid, kind: 'Key', publicKey: expect.stringContaining('BEGIN PUBLIC KEY') },
    });
    const now = new Date(h.sim.clock.now()).toISOString();
    await expect(sdk.auth.listAuditLogs({ query: { startTime: '2020-01-01T00:00:00Z', endTime: now } })).rejects.toThrow(/JSON/);
  });
});
