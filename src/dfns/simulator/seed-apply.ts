import { generateKeyPairSync } from 'node:crypto';
import { DAY_MS } from '../../clock.js';
import { newId } from './ids.js';
import { addPat, addServiceAccount, copyAssignments, newAssignment, type KeyMaterial } from './records.js';
import { LazyTokenMap } from './seeded-tokens.js';
import { GENERATED_PAT_PREFIX, GENERATED_SA_PREFIX } from './seed.js';
import { parsePublicKeyPem } from './signatures.js';
import { SimState, type Assignment, type PermissionRecord, type TokenRecord, type UserRecord } from './state.js';
import type { JwtIssuer } from './tokens.js';
import type { SeedFile } from './types.js';

/** Builds the org from a validated seed (see seed.ts). `now` is the simulator clock at start. */
export function buildSeededState(
  seed: SeedFile,
  ctx: { now: number; defaultDaysValid: number | null; jwt: JwtIssuer },
): { state: SimState; seededTokens: LazyTokenMap } {
  const state = new SimState(seed.orgId ?? newId('or'));
  const seededTokens = new LazyTokenMap();
  const permissionsByName = new Map<string, PermissionRecord>();
  const assignmentsFor = (name: string | undefined): Assignment[] => {
    const permission = name === undefined ? undefined : permissionsByName.get(name);
    return permission ? [newAssignment(permission)] : [];
  };

  for (const p of seed.permissions ?? []) {
    const record: PermissionRecord = { id: p.id ?? newId('pm'), name: p.name, operations: [...p.operations] };
    state.permissions.set(record.id, record);
    permissionsByName.set(record.name, record);
  }

  const usersByName = new Map<string, UserRecord>();
  for (const u of seed.users ?? []) {
    const userId = u.id ?? newId('us');
    const user: UserRecord = {
      userId,
      username: u.username,
      name: u.username,
      orgId: state.orgId,
      isServiceAccount: false,
      isActive: true,
      archived: false,
      dateCreated: ctx.now,
      credentialUuid: '',
      assignments: (u.permissions ?? []).flatMap((name) => assignmentsFor(name)),
    };
    for (const c of u.credentials) {
      const key = parsePublicKeyPem(c.publicKeyPem);
      if (typeof key === 'string') throw new Error(`seed was not validated: ${c.credId} ${key}`);
      const cred = {
        credentialUuid: newId('cr'), credId: c.credId, kind: 'Key' as const, name: c.name ?? c.credId,
        ownerUserId: userId, publicKeyPem: c.publicKeyPem, key, isActive: true, dateCreated: ctx.now,
      };
      state.addCredential(cred);
      if (!user.credentialUuid) user.credentialUuid = cred.credentialUuid;
    }
    state.addUser(user);
    usersByName.set(user.username, user);
  }

  const mintFor = (token: TokenRecord, user: UserRecord) => () =>
    ctx.jwt.accessToken({
      orgId: state.orgId, userId: user.userId, username: user.username, tokenKind: token.kind,
      tokenId: token.tokenId, iatMs: token.dateCreated, expMs: token.exp,
    });
  const lifetime = (ageDays: number | undefined, daysValid: number | undefined, noExpiry: boolean | undefined) => {
    const dateCreated = ctx.now - (ageDays ?? 0) * DAY_MS;
    const days = noExpiry ? null : daysValid ?? ctx.defaultDaysValid;
    return { dateCreated, exp: days === null ? null : dateCreated + days * DAY_MS };
  };
  // A key whose private half is dropped at once: the item can be listed and its token used for reads.
  const throwaway = (): KeyMaterial => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return { publicKeyPem: pem, key: parsePublicKeyPem(pem) as Exclude<ReturnType<typeof parsePublicKeyPem>, string> };
  };
  const material = (pem: string | undefined, credId: string | undefined): KeyMaterial => {
    const base = pem === undefined ? throwaway() : { publicKeyPem: pem, key: parsePublicKeyPem(pem) as KeyMaterial['key'] };
    return credId === undefined ? base : { ...base, credId };
  };

  for (const sa of seed.serviceAccounts ?? []) {
    const { user, token } = addServiceAccount(
      state,
      { name: sa.name, userId: sa.id, assignments: assignmentsFor(sa.permission), isActive: sa.isActive ?? true, ...lifetime(sa.ageDays, sa.daysValid, sa.noExpiry) },
      material(sa.publicKeyPem, sa.credId),
    );
    seededTokens.define(sa.name, mintFor(token, user));
  }

  for (const pat of seed.pats ?? []) {
    const owner = usersByName.get(pat.owner)!;
    const assignments = pat.permission === undefined ? copyAssignments(state, owner.assignments) : assignmentsFor(pat.permission);
    const token = addPat(
      state,
      owner,
      { name: pat.name, assignments, isActive: pat.isActive ?? true, ...lifetime(pat.ageDays, pat.daysValid, pat.noExpiry) },
      material(pat.publicKeyPem, pat.credId),
    );
    seededTokens.define(pat.name, mintFor(token, owner));
  }

  const gen = seed.generate;
  if (gen && ((gen.serviceAccounts ?? 0) > 0 || (gen.pats ?? 0) > 0)) {
    // One shared key for every generated item: no per-item key generation for 10,000+ items.
    const shared = throwaway();
    const maxAge = gen.maxAgeDays ?? 365;
    const ageAt = (i: number, n: number) => (n <= 1 ? 0 : (maxAge * i) / (n - 1));
    const width = String(Math.max(gen.serviceAccounts ?? 0, gen.pats ?? 0)).length;
    const nSa = gen.serviceAccounts ?? 0;
    for (let i = 0; i < nSa; i++) {
      const name = `${GENERATED_SA_PREFIX}${String(i + 1).padStart(width, '0')}`;
      const { user, token } = addServiceAccount(
        state,
        { name, assignments: [], isActive: true, ...lifetime(ageAt(i, nSa), gen.daysValid, false) },
        shared,
      );
      seededTokens.define(name, mintFor(token, user));
    }
    const nPat = gen.pats ?? 0;
    if (nPat > 0) {
      const owner = gen.patOwner !== undefined ? usersByName.get(gen.patOwner)! : [...usersByName.values()][0]!;
      for (let i = 0; i < nPat; i++) {
        const name = `${GENERATED_PAT_PREFIX}${String(i + 1).padStart(width, '0')}`;
        const token = addPat(
          state,
          owner,
          { name, assignments: copyAssignments(state, owner.assignments), isActive: true, ...lifetime(ageAt(i, nPat), gen.daysValid, false) },
          shared,
        );
        seededTokens.define(name, mintFor(token, owner));
      }
    }
  }
  return { state, seededTokens };
}
