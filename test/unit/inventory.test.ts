import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../src/config/index.js';
import { buildInventory, indexStore, type BuildInventoryInput } from '../../src/jobs/core/inventory.js';
import { makePat, makeServiceAccount, makeStored } from '../fixtures/builders.js';
import { TEST_POLICY_CONFIG } from '../fixtures/policy-config.js';

const now = Date.parse('2026-03-01T00:00:00Z');
const config = TEST_POLICY_CONFIG;

function run(over: Partial<BuildInventoryInput>) {
  return buildInventory({
    listing: { serviceAccounts: [], pats: [] },
    store: new Map(),
    heldTokens: [],
    policyFor: (s) => resolvePolicy(config, s),
    operatorUsername: 'op',
    now,
    ...over,
  });
}

describe('buildInventory', () => {
  it('uses the exact expiry of a stored token and marks the credential managed', () => {
    const sa = makeServiceAccount({ id: 'us-pay', name: 'payments', now, ageDays: 700 });
    const [item] = run({
      listing: { serviceAccounts: [sa], pats: [] },
      store: indexStore([makeStored({ secretName: 'payments', credentialId: 'us-pay', now, expiresInDays: 10 })]),
    });
    expect(item).toMatchObject({ key: 'sa:us-pay', managed: true, role: 'current', secretName: 'payments', expirySource: 'token', state: 'rotate', strategy: 'replace', daysLeft: 10 });
    expect(item!.action).toBeUndefined();
  });

  it('estimates the expiry of a credential it does not hold, and says what a person must do', () => {
    const sa = makeServiceAccount({ id: 'us-x', name: 'legacy', now, ageDays: 710 });
    const [item] = run({ listing: { serviceAccounts: [sa], pats: [] } });
    expect(item).toMatchObject({ managed: false, role: 'unmanaged', expirySource: 'estimate', state: 'warn', strategy: 'notify', threshold: 30 });
    expect(item!.action).toMatch(/dfns-rotator adopt/);
  });

  it('flags the worker\'s own identity and uses its token\'s exact expiry', () => {
    const sa = makeServiceAccount({ id: 'us-watch', name: 'watcher', now, ageDays: 300 });
    const [item] = run({ listing: { serviceAccounts: [sa], pats: [] }, heldTokens: [{ credentialId: 'us-watch', expiresAt: now + 2 * 86_400_000, label: 'watcher token' }] });
    expect(item).toMatchObject({ isOwnIdentity: true, expirySource: 'token', state: 'rotate', threshold: 3 });
    expect(item!.action).toMatch(/worker's own watcher token/);
  });

  it('reports a stored token without exp as unknown', () => {
    const pat = makePat({ id: 'to-1', name: 'ci', now, owner: 'us-op' });
    const [item] = run({ listing: { serviceAccounts: null, pats: [{ owner: 'op', records: [pat] }] }, store: indexStore([makeStored({ secretName: 'ci', credentialId: 'to-1', now, expiresInDays: null, kind: 'pat' })]) });
    expect(item).toMatchObject({ kind: 'pat', owner: 'op', state: 'unknown', expirySource: 'none' });
    expect(item!.action).toBe("its token has no exp, so its expiry is unknown: rotate it onto a dated token (`npx dfns-rotator rotate ci --reason 'token has no known expiry'`; the replacement gets rotation.daysValid, else 365 days)");
  });

  it("advises a dated replacement for the worker's own token without exp", () => {
    const sa = makeServiceAccount({ id: 'us-watch', name: 'watcher', now, ageDays: 1 });
    const [item] = run({ listing: { serviceAccounts: [sa], pats: [] }, heldTokens: [{ credentialId: 'us-watch', expiresAt: null, label: 'watcher token' }] });
    expect(item).toMatchObject({ isOwnIdentity: true, state: 'unknown' });
    expect(item!.action).toMatch(/^the worker's own watcher token has no exp.*set lifetime \(daysValid\) and update the worker's configuration$/);
  });

  it('shows an unreadable listed item as unknown, keeping what the store knows, and never rotates it', () => {
    const [item] = run({
      listing: { serviceAccounts: [], pats: [], unreadable: [{ kind: 'service-account', id: 'us-bad', problem: 'userInfo.isActive: expected boolean' }] },
      store: indexStore([makeStored({ secretName: 'bad', credentialId: 'us-bad', now, expiresInDays: 5 })]),
    });
    expect(item).toMatchObject({ key: 'sa:us-bad', name: 'us-bad', state: 'unknown', strategy: 'notify', expirySource: 'token', daysLeft: 5, threshold: null, secretName: 'bad' });
    expect(item!.reason).toMatch(/^Dfns' answer for it could not be read \(userInfo\.isActive: expected boolean\); expires in 5 days/);
  });

  it('will not replace a PAT of another user, and lists a PAT seen by two identities once', () => {
    const pat = makePat({ id: 'to-2', name: 'bob-ci', now, owner: 'us-bob', ageDays: 360 });
    const items = run({
      listing: { serviceAccounts: null, pats: [{ owner: 'bob', records: [pat] }, { owner: 'bob', records: [pat] }] },
      store: indexStore([makeStored({ secretName: 'bob-ci', credentialId: 'to-2', now, expiresInDays: 5, kind: 'pat' })]),
    });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ strategy: 'notify', state: 'rotate' });
    expect(items[0]!.action).toMatch(/only bob can create a replacement PAT/);
  });

  it('does not rotate credentials being retired or created, nor ones whose rule says notify', () => {
    const old = makeServiceAccount({ id: 'us-old', name: 'payments-g1', now, ageDays: 720 });
    const manual = makeServiceAccount({ id: 'us-m', name: 'manual-ops', now, ageDays: 720 });
    const items = run({
      listing: { serviceAccounts: [old, manual], pats: [] },
      store: indexStore([
        makeStored({ secretName: 'payments', credentialId: 'us-old', stage: 'previous', now, expiresInDays: 3 }),
        makeStored({ secretName: 'manual', credentialId: 'us-m', now, expiresInDays: 3 }),
      ]),
    });
    expect(items.map((i) => [i.id, i.role, i.strategy])).toEqual([['us-old', 'previous', 'notify'], ['us-m', 'current', 'notify']]);
    // Already replaced: not counted as due for rotation (plan, status and the digest count states).
    expect(items[0]).toMatchObject({ state: 'ok', threshold: null, reason: 'replaced: expires in 3 days; retired after the overlap window' });
    expect(items[1]).toMatchObject({ state: 'rotate' });
  });

  it('keeps adoption apart from rotation', () => {
    const sa = makeServiceAccount({ id: 'us-a', name: 'adopted', now, ageDays: 100 });
    const adopted = makeStored({ secretName: 'adopted', credentialId: 'us-a', now, expiresInDays: 200 });
    const version = adopted.versions[0]!;
    version.metadata.adoptedAt = now - 86_400_000;
    const [item] = run({ listing: { serviceAccounts: [sa], pats: [] }, store: indexStore([adopted]) });
    expect(item!.adoptedAt).toBe(now - 86_400_000);
    expect(item!.lastRotatedAt).toBeUndefined();
  });

  it('marks inactive credentials inactive whatever their expiry', () => {
    const sa = makeServiceAccount({ id: 'us-off', now, ageDays: 800, isActive: false });
    expect(run({ listing: { serviceAccounts: [sa], pats: [] } })[0]!.state).toBe('inactive');
  });
});
