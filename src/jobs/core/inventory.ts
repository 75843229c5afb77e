import type { CredentialPolicy, PolicySubject } from '../../config/policy.js';
import type { AccessTokenRecord, PersonalAccessTokenRecord, ServiceAccountRecord } from '../../dfns/port.js';
import { credentialKey, type CredentialKind, type InventoryItem, type Strategy } from '../../model.js';
import type { SecretSummary, Stage } from '../../secrets/types.js';
import { classifyCredential, type ExpiryEvidence } from './classify.js';
import { cliCommand } from '../../cli-name.js';

/**
 * Pure join of what Dfns lists with what the store holds, classified with each credential's
 * policy. The scan job does the I/O and hands the results here.
 */

export interface Listing {
  /** Null when no identity could list service accounts. */
  serviceAccounts: ServiceAccountRecord[] | null;
  /** PATs by owner, as each owner's identity listed them. */
  pats: { owner: string; records: PersonalAccessTokenRecord[] }[];
  /** Items Dfns listed in a shape the worker cannot read, by id (never their values). */
  unreadable?: UnreadableListed[];
}

export interface UnreadableListed {
  kind: CredentialKind;
  id: string;
  owner?: string;
  /** Which fields were wrong. */
  problem: string;
}

/** A token held outside the store (the watcher's), by Dfns id: its expiry and that it is ours. */
export interface HeldToken {
  credentialId: string;
  expiresAt: number | null;
  problem?: string;
  label: string;
}

export interface StoreEntry {
  secretName: string;
  stage: Stage;
  expiresAt: number | null;
  keyCreatedAt: number;
  lastRotatedAt?: number;
  adoptedAt?: number;
}

/** credentialId → where the store holds it. A credential in two secrets is a misconfiguration: the newest version wins. */
export function indexStore(summaries: readonly SecretSummary[]): Map<string, StoreEntry> {
  const index = new Map<string, StoreEntry & { versionCreatedAt: number }>();
  for (const secret of summaries) {
    for (const v of secret.versions) {
      const id = v.metadata.credentialId;
      const stage = v.stages[0];
      if (!id || !stage) continue;
      const existing = index.get(id);
      // rekey keeps the credential id: the current version, not the previous one, describes it.
      const rank = (s: Stage) => (s === 'current' ? 2 : s === 'pending' ? 1 : 0);
      if (existing && (rank(existing.stage) > rank(stage) || (rank(existing.stage) === rank(stage) && existing.versionCreatedAt >= v.metadata.createdAt))) continue;
      index.set(id, {
        secretName: secret.name,
        stage,
        expiresAt: v.metadata.expiresAt ?? null,
        keyCreatedAt: v.metadata.createdAt,
        lastRotatedAt: v.metadata.rotatedAt,
        adoptedAt: v.metadata.adoptedAt,
        versionCreatedAt: v.metadata.createdAt,
      });
    }
  }
  return index;
}

/** The SA's token Dfns' expiry applies to: the oldest active one (pessimistic), else the oldest. */
function serviceAccountToken(sa: ServiceAccountRecord): AccessTokenRecord | undefined {
  const byAge = [...sa.accessTokens].sort((a, b) => a.dateCreated.localeCompare(b.dateCreated));
  return byAge.find((t) => t.isActive) ?? byAge[0];
}

export interface BuildInventoryInput {
  listing: Listing;
  store: Map<string, StoreEntry>;
  heldTokens: readonly HeldToken[];
  policyFor: (subject: PolicySubject) => CredentialPolicy;
  /** The operator's username when it can rotate its own PATs (`replace` of a PAT needs its owner to be the operator). */
  operatorUsername: string | null;
  now: number;
}

export interface ClassifiedInventory {
  items: InventoryItem[];
  /** Each item's policy by item key: resolved once per scan, for everything the scan decides after. */
  policies: Map<string, CredentialPolicy>;
}

export function buildInventory(input: BuildInventoryInput): InventoryItem[] {
  return classifyInventory(input).items;
}

export function classifyInventory(input: BuildInventoryInput): ClassifiedInventory {
  const held = new Map(input.heldTokens.map((t) => [t.credentialId, t]));
  const items: InventoryItem[] = [];
  const policies = new Map<string, CredentialPolicy>();
  for (const sa of input.listing.serviceAccounts ?? []) {
    const token = serviceAccountToken(sa);
    items.push(
      makeItem(input, held, policies, {
        kind: 'service-account',
        id: sa.id,
        name: sa.name,
        isActive: sa.isActive && (token?.isActive ?? true),
        dateCreated: token?.dateCreated ?? '',
      }),
    );
  }
  const seen = new Set<string>();
  for (const { owner, records } of input.listing.pats) {
    for (const pat of records) {
      // The same PAT can be listed by two identities of one owner (the operator's login and a stored PAT).
      if (seen.has(pat.tokenId)) continue;
      seen.add(pat.tokenId);
      items.push(makeItem(input, held, policies, { kind: 'pat', id: pat.tokenId, name: pat.name, owner, isActive: pat.isActive, dateCreated: pat.dateCreated }));
    }
  }
  const listed = new Set(items.map((i) => i.key));
  for (const bad of input.listing.unreadable ?? []) {
    if (listed.has(credentialKey(bad.kind, bad.id))) continue;
    listed.add(credentialKey(bad.kind, bad.id));
    items.push(unreadableItem(makeItem(input, held, policies, { kind: bad.kind, id: bad.id, name: bad.id, isActive: true, dateCreated: '', ...(bad.owner !== undefined ? { owner: bad.owner } : {}) }), bad.problem));
  }
  return { items, policies };
}

/**
 * A credential Dfns listed but the worker could not read: shown, never silently dropped. Whether
 * it is active is unknown, so its state is `unknown` whatever a held token says about its expiry.
 */
function unreadableItem(item: InventoryItem, problem: string): InventoryItem {
  const known = item.expirySource === 'token' ? `; ${item.reason}` : '';
  return {
    ...item,
    state: 'unknown',
    threshold: null,
    strategy: 'notify',
    reason: `Dfns' answer for it could not be read (${problem})${known}`,
    action: "check it in the Dfns dashboard: the worker does not rotate a credential whose record it cannot read (`" + cliCommand('plan') + "` shows it again once Dfns' answer is readable)",
  };
}

type Facts = Pick<InventoryItem, 'kind' | 'id' | 'name' | 'owner' | 'isActive' | 'dateCreated'>;

const NOT_HELD: ExpiryEvidence = { kind: 'not-held' };

/** States whose item carries the person's next step. */
const STATES_WITH_ACTION: ReadonlySet<string> = new Set(['warn', 'rotate', 'expired', 'unknown']);

// Hot path: called once per credential (10,000+ per scan, see bench/scan.bench.ts). Optional
// fields are assigned, not spread: a spread of a conditional object literal costs a runtime call each.
function makeItem(input: BuildInventoryInput, held: Map<string, HeldToken>, policies: Map<string, CredentialPolicy>, f: Facts): InventoryItem {
  const stored = input.store.get(f.id);
  const own = held.get(f.id);
  const policy = input.policyFor({ kind: f.kind, id: f.id, name: f.name, secretName: stored?.secretName });
  let evidence: ExpiryEvidence = NOT_HELD;
  if (stored) evidence = stored.expiresAt !== null ? { kind: 'token', expiresAt: stored.expiresAt } : { kind: 'token-without-exp', problem: 'the stored token has no exp claim' };
  else if (own) evidence = own.expiresAt !== null ? { kind: 'token', expiresAt: own.expiresAt } : { kind: 'token-without-exp', problem: own.problem ?? 'the token has no exp claim' };

  const c = classifyCredential(
    { isActive: f.isActive, dateCreated: f.dateCreated, evidence, keyCreatedAt: stored?.stage === 'current' ? stored.keyCreatedAt : undefined },
    policy,
    input.now,
  );
  const role = stored?.stage ?? 'unmanaged';
  const managed = role === 'current';
  // A replaced credential (previous) or one being created (pending) belongs to its rotation: it
  // is not due for rotation or warning itself, and must not be counted as such.
  if ((role === 'previous' || role === 'pending') && (c.state === 'warn' || c.state === 'rotate')) {
    c.state = 'ok';
    c.threshold = null;
    c.reason = role === 'previous' ? `replaced: ${c.reason.replace(/, inside .*$/, '')}; retired after the overlap window` : `being created by a rotation: ${c.reason}`;
  }
  const { strategy, action } = effectiveStrategy(policy.strategy, f, managed, role, input.operatorUsername, own?.label, stored?.secretName);
  const key = credentialKey(f.kind, f.id);
  policies.set(key, policy);
  const item: InventoryItem = {
    key,
    kind: f.kind,
    id: f.id,
    name: f.name,
    isActive: f.isActive,
    dateCreated: f.dateCreated,
    expiresAt: c.expiresAt,
    expirySource: c.expirySource,
    managed,
    role,
    strategy,
    state: c.state,
    reason: c.reason,
    daysLeft: c.daysLeft,
    threshold: c.threshold,
  };
  if (f.owner !== undefined) item.owner = f.owner;
  if (stored) item.secretName = stored.secretName;
  if (own) item.isOwnIdentity = true;
  if (action && STATES_WITH_ACTION.has(c.state)) item.action = action;
  if (evidence.kind === 'token-without-exp' && c.state === 'unknown') item.action = undatedAdvice(own?.label, stored?.secretName);
  if (stored?.lastRotatedAt !== undefined && managed) item.lastRotatedAt = stored.lastRotatedAt;
  if (stored?.adoptedAt !== undefined && managed) item.adoptedAt = stored.adoptedAt;
  return item;
}

/**
 * A held token without `exp` is normal for Dfns (a create without daysValid may make one), but
 * nobody can then tell when it stops working: the cure is a dated replacement.
 */
function undatedAdvice(ownLabel: string | undefined, secretName: string | undefined): string {
  if (ownLabel) return `the worker's own ${ownLabel} has no exp, so its expiry is unknown: create a replacement with a set lifetime (daysValid) and update the worker's configuration`;
  const rotate = secretName ? cliCommand('rotate', secretName, '--reason', 'token has no known expiry') : `${cliCommand('rotate')} <secret> --reason 'token has no known expiry'`;
  return `its token has no exp, so its expiry is unknown: rotate it onto a dated token (\`${rotate}\`; the replacement gets rotation.daysValid, else 365 days)`;
}

/**
 * What the worker will actually do. Only `current` credentials in the store can be rotated; a PAT
 * can only be replaced by its owner, so `replace` of someone else's PAT falls back to notify.
 */
function effectiveStrategy(
  configured: Strategy,
  f: Facts,
  managed: boolean,
  role: InventoryItem['role'],
  operatorUsername: string | null,
  ownLabel: string | undefined,
  secretName: string | undefined,
): { strategy: Strategy; action?: string } {
  if (role === 'previous') return { strategy: 'notify', action: 'replaced already; the old credential is retired after the overlap window' };
  if (role === 'pending') return { strategy: 'notify', action: 'a rotation is creating this credential' };
  if (!managed) {
    const what = ownLabel
      ? `this is the worker's own ${ownLabel}: create a new token and update the worker's configuration before it expires`
      : f.kind === 'pat'
        ? `ask ${f.owner ?? 'its owner'} to create a new personal access token and update its consumers, or adopt it with \`${cliCommand('adopt')} --help\``
        : `create a replacement in the Dfns dashboard and update its consumers, or bring it under management with \`${cliCommand('adopt')} --help\``;
    return { strategy: 'notify', action: what };
  }
  if (configured === 'notify') return { strategy: 'notify', action: `strategy is notify: rotate it by hand (\`${cliCommand('rotate', secretName ?? f.id, '--reason', 'manual rotation')}\`) or change its rule` };
  if (configured === 'replace' && f.kind === 'pat' && operatorUsername !== null && f.owner !== operatorUsername) {
    return { strategy: 'notify', action: `only ${f.owner ?? 'its owner'} can create a replacement PAT; use strategy rekey, or have its owner rotate it` };
  }
  if (configured === 'replace' && operatorUsername === null) {
    return { strategy: 'notify', action: 'replace needs an operator identity; configure one, or rotate it by hand' };
  }
  return { strategy: configured };
}
