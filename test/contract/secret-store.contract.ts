import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode } from '../../src/errors.js';
import { SecretConflictError } from '../../src/secrets/errors.js';
import {
  addCurrent,
  addPending,
  discardPending,
  dropVersion,
  promotePending,
  updatePending,
  versionWithStage,
} from '../../src/secrets/stages.js';
import type { SecretRecord, SecretStore, SecretVersion } from '../../src/secrets/types.js';
import { FAKE_PEM_HEADER, makeManagedSecret, makeVersion } from '../fixtures/managed-secret.js';

export interface StoreUnderTest {
  store: SecretStore;
  /** A second, independent handle on the same data (another process would use one). */
  reopen(): SecretStore;
  /**
   * What a consuming service sees with the backend's own client and no dfns-rotator code: the
   * credential JSON it gets by default (current) and the previous one. Backends that have a
   * consumer's view (Vault, AWS) provide it; the contract then checks it.
   */
  consumerView?(name: string): Promise<ConsumerView>;
  cleanup(): Promise<void>;
}

export interface ConsumerView {
  current: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
}

/**
 * The behaviour every `SecretStore` adapter must have (bull-board's serverAdapterContract
 * pattern): each adapter's test file calls this with a factory for a fresh, empty store.
 */
export function secretStoreContract(adapter: string, makeStore: () => Promise<StoreUnderTest>, options: { consumerView?: boolean } = {}): void {
  describe(`SecretStore contract: ${adapter}`, () => {
    let sut: StoreUnderTest;
    let store: SecretStore;

    beforeEach(async () => {
      sut = await makeStore();
      store = sut.store;
    });
    afterEach(async () => {
      await store.close?.();
      await sut.cleanup();
    });

    async function mustGet(name: string): Promise<SecretRecord> {
      const record = await store.get(name);
      if (!record) throw new Error(`expected secret ${name} to exist`);
      return record;
    }

    it('returns null for a missing secret and an empty list for an empty store', async () => {
      expect(await store.get('payments/missing')).toBeNull();
      expect(await store.list()).toEqual([]);
    });

    it('creates a secret with expected revision null and reads it back whole', async () => {
      const versions = [makeVersion(1, ['current'], { name: 'api-bot' }, { rotatedAt: 5 })];
      expect(await store.put('payments/api-bot', versions, null)).toBe(1);
      expect(await store.get('payments/api-bot')).toEqual({ name: 'payments/api-bot', revision: 1, versions });
    });

    it('increments the revision by one on every write', async () => {
      const v = [makeVersion(1, ['current'])];
      expect(await store.put('a', v, null)).toBe(1);
      expect(await store.put('a', v, 1)).toBe(2);
      expect(await store.put('a', v, 2)).toBe(3);
      expect((await mustGet('a')).revision).toBe(3);
    });

    it('refuses a create when the secret exists, and a write with a stale revision, changing nothing', async () => {
      const first = [makeVersion(1, ['current'], { accessToken: 'first' })];
      await store.put('a', first, null);
      await store.put('a', first, 1);

      const other = [makeVersion(1, ['current'], { accessToken: 'second' })];
      await expect(store.put('a', other, null)).rejects.toSatisfy((e) => e instanceof SecretConflictError && errorCode(e) === 'SECRET_CONFLICT');
      await expect(store.put('a', other, 1)).rejects.toThrow(/expected revision 1, found 2/);
      await expect(store.put('missing', other, 1)).rejects.toThrow(/expected revision 1, found none/);
      expect(await store.get('a')).toEqual({ name: 'a', revision: 2, versions: first });
      expect(await store.get('missing')).toBeNull();
    });

    it('lists summaries of every secret, sorted by name, without any secret value', async () => {
      await store.put('team-b/bot', [makeVersion(1, ['current'], { name: 'bot-b', kind: 'pat' })], null);
      await store.put('team-a/x/bot', [makeVersion(3, ['current'], { name: 'bot-a' }), makeVersion(4, ['pending'], { name: 'bot-a2', accessToken: null })], null);
      await store.put('team-a/x/bot', (await mustGet('team-a/x/bot')).versions, 1);

      const list = await store.list();
      expect(list).toEqual([
        {
          name: 'team-a/x/bot',
          revision: 2,
          versions: [
            { versionId: 3, stages: ['current'], metadata: { createdAt: 1_700_000_000_003 }, kind: 'service-account', name: 'bot-a' },
            { versionId: 4, stages: ['pending'], metadata: { createdAt: 1_700_000_000_004 }, kind: 'service-account', name: 'bot-a2' },
          ],
        },
        { name: 'team-b/bot', revision: 1, versions: [{ versionId: 1, stages: ['current'], metadata: { createdAt: 1_700_000_000_001 }, kind: 'pat', name: 'bot-b' }] },
      ]);
      const text = JSON.stringify(list);
      expect(text).not.toContain('eyJ');
      expect(text).not.toContain(FAKE_PEM_HEADER);
      expect(text).not.toContain('PUBLIC KEY');
      expect(text).not.toMatch(/accessToken|privateKeyPem/);
    });

    it('runs a full rotation life-cycle through the stage moves', async () => {
      const name = 'payments/api-bot';
      // adopt an existing credential
      const adopted = addCurrent(null, name, makeManagedSecret({ credentialId: 'us-1', accessToken: 'tok-1' }), { createdAt: 100 });
      let rev = await store.put(name, adopted.versions, null);

      // rotation 1: stage (no token yet), fill in the token, promote
      let rec = await mustGet(name);
      const staged = addPending(rec, name, makeManagedSecret({ credentialId: null, accessToken: null }), { createdAt: 200, rotationId: 'rot-1' });
      rev = await store.put(name, staged.versions, rev);
      rec = await mustGet(name);
      expect(versionWithStage(rec.versions, 'pending')?.value.accessToken).toBeNull();
      rev = await store.put(name, updatePending(rec, staged.versionId, { value: { accessToken: 'tok-2', credentialId: 'us-2' } }), rev);
      rec = await mustGet(name);
      rev = await store.put(name, promotePending(rec, staged.versionId, 300), rev);
      rec = await mustGet(name);
      expect(stagesOf(rec.versions)).toEqual({ 1: ['previous'], 2: ['current'] });
      expect(versionWithStage(rec.versions, 'current')?.value.accessToken).toBe('tok-2');
      expect(versionWithStage(rec.versions, 'current')?.metadata.rotatedAt).toBe(300);

      // rotation 2 moves current to previous and the old previous loses its label
      const second = addPending(rec, name, makeManagedSecret({ credentialId: 'us-3', accessToken: 'tok-3' }), { createdAt: 400, rotationId: 'rot-2' });
      rev = await store.put(name, second.versions, rev);
      rev = await store.put(name, promotePending(await mustGet(name), second.versionId, 500), rev);
      rec = await mustGet(name);
      expect(stagesOf(rec.versions)).toEqual({ 1: [], 2: ['previous'], 3: ['current'] });

      // rotation 3 is abandoned
      const third = addPending(rec, name, makeManagedSecret({ accessToken: null }), { createdAt: 600, rotationId: 'rot-3' });
      rev = await store.put(name, third.versions, rev);
      rev = await store.put(name, discardPending(await mustGet(name), third.versionId), rev);
      rec = await mustGet(name);
      expect(stagesOf(rec.versions)).toEqual({ 1: [], 2: ['previous'], 3: ['current'] });

      // retiring the previous credential removes its key from the store
      rev = await store.put(name, dropVersion(rec, 2), rev);
      rec = await mustGet(name);
      expect(stagesOf(rec.versions)).toEqual({ 1: [], 3: ['current'] });
      expect(rec.revision).toBe(rev);
      expect(rev).toBe(9);
      expect(JSON.stringify(await store.list())).not.toContain('tok-');
    });

    it('lets exactly one of several concurrent writers with the same expected revision win', async () => {
      await store.put('race', [makeVersion(1, ['current'])], null);
      const attempts = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((i) => store.put('race', [makeVersion(1, ['current'], { accessToken: `writer-${i}` })], 1)),
      );
      const won = attempts.flatMap((a, i) => (a.status === 'fulfilled' ? [i + 1] : []));
      expect(won).toHaveLength(1);
      for (const a of attempts) {
        if (a.status === 'rejected') expect(errorCode(a.reason)).toBe('SECRET_CONFLICT');
        else expect(a.value).toBe(2);
      }
      const rec = await mustGet('race');
      expect(rec.revision).toBe(2);
      expect(rec.versions[0]?.value.accessToken).toBe(`writer-${won[0]}`);
    });

    it('creates a secret only once when several writers race to create it', async () => {
      const attempts = await Promise.allSettled([1, 2, 3].map((i) => store.put('fresh', [makeVersion(i, ['current'])], null)));
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      expect((await mustGet('fresh')).revision).toBe(1);
    });

    it('shares data and compare-and-set with a second handle on the same store', async () => {
      const other = sut.reopen();
      try {
        await store.put('shared', [makeVersion(1, ['current'])], null);
        expect((await other.get('shared'))?.revision).toBe(1);
        await other.put('shared', [makeVersion(2, ['current'])], 1);
        await expect(store.put('shared', [makeVersion(3, ['current'])], 1)).rejects.toBeInstanceOf(SecretConflictError);
        expect((await mustGet('shared')).versions[0]?.versionId).toBe(2);
      } finally {
        await other.close?.();
      }
    });

    it('refuses names that could escape or that no adapter can hold', async () => {
      for (const bad of ['', '../x', 'a/../b', '/abs', '.hidden', 'a b', 'a\\b', 'x'.repeat(201), 'a\nb']) {
        await expect(store.get(bad), bad).rejects.toMatchObject({ code: 'SECRET_NAME' });
        await expect(store.put(bad, [makeVersion(1, ['current'])], null), bad).rejects.toMatchObject({ code: 'SECRET_NAME' });
      }
      expect(await store.list()).toEqual([]);
    });

    it('refuses to write versions that break the stage rules or the record shape', async () => {
      await expect(store.put('a', [makeVersion(1, ['current']), makeVersion(2, ['current'])], null)).rejects.toMatchObject({ code: 'SECRET_STAGE' });
      await expect(store.put('a', [makeVersion(1, ['current']), makeVersion(1, [])], null)).rejects.toMatchObject({ code: 'SECRET_STAGE' });
      const broken = { ...makeVersion(1, ['current']), value: { ...makeManagedSecret(), privateKeyPem: undefined } } as unknown as SecretVersion;
      await expect(store.put('a', [broken], null)).rejects.toThrow(/versions\[0\]\.value\.privateKeyPem/);
      expect(await store.get('a')).toBeNull();
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      await store.put('a', [makeVersion(1, ['current'])], null);
      const rec = await mustGet('a');
      rec.versions[0]!.stages.push('previous');
      rec.versions[0]!.value.accessToken = 'changed';
      expect(await store.get('a')).toEqual({ name: 'a', revision: 1, versions: [makeVersion(1, ['current'])] });
    });

    if (options.consumerView) {
      it("shows consumers the current credential, the previous one after a promote, and never a pending one", async () => {
        const view = (name: string) => sut.consumerView!(name);
        const name = 'payments/api-bot';
        let rev = await store.put(name, addCurrent(null, name, makeManagedSecret({ credentialId: 'us-1', accessToken: 'tok-1' }), { createdAt: 1 }).versions, null);
        expect((await view(name)).current).toMatchObject({ format: 'dfns-rotator/credential/v1', serviceAccountId: 'us-1', accessToken: 'tok-1' });

        const staged = addPending(await mustGet(name), name, makeManagedSecret({ credentialId: null, accessToken: null }), { createdAt: 2, rotationId: 'rot-1' });
        rev = await store.put(name, staged.versions, rev);
        rev = await store.put(name, updatePending(await mustGet(name), staged.versionId, { value: { accessToken: 'tok-2', credentialId: 'us-2' } }), rev);
        expect((await view(name)).current).toMatchObject({ accessToken: 'tok-1' });

        rev = await store.put(name, promotePending(await mustGet(name), staged.versionId, 3), rev);
        const after = await view(name);
        expect(after.current).toMatchObject({ serviceAccountId: 'us-2', accessToken: 'tok-2' });
        expect(after.previous).toMatchObject({ serviceAccountId: 'us-1', accessToken: 'tok-1' });

        // An abandoned rotation never reaches consumers.
        const third = addPending(await mustGet(name), name, makeManagedSecret({ credentialId: 'us-3', accessToken: 'tok-3' }), { createdAt: 4, rotationId: 'rot-2' });
        rev = await store.put(name, third.versions, rev);
        await store.put(name, discardPending(await mustGet(name), third.versionId), rev);
        expect((await view(name)).current).toMatchObject({ accessToken: 'tok-2' });
      });
    }

    it('keeps fields it does not know (written by a newer version) through a read and a stage move', async () => {
      const v = makeVersion(1, ['current']);
      const future = { ...v, shard: 7, metadata: { ...v.metadata, policyId: 'p-1' }, value: { ...v.value, region: 'eu' } } as SecretVersion;
      await store.put('a', [future], null);
      const rec = await mustGet('a');
      const next = addPending(rec, 'a', makeManagedSecret(), { createdAt: 1 });
      await store.put('a', next.versions, 1);
      const back = (await mustGet('a')).versions[0] as unknown as Record<string, Record<string, unknown>>;
      expect(back.shard).toBe(7);
      expect(back.metadata?.policyId).toBe('p-1');
      expect(back.value?.region).toBe('eu');
    });
  });
}

function stagesOf(versions: readonly SecretVersion[]): Record<number, string[]> {
  return Object.fromEntries(versions.map((v) => [v.versionId, v.stages]));
}
