import { createHash } from 'node:crypto';
import { DEFAULTS } from '../config/types.js';
import type { Clock } from '../clock.js';
import type { CredentialPolicy, PolicySubject } from '../config/policy.js';
import { readTokenIdentity } from '../dfns/jwt.js';
import type { DfnsPort, PersonalAccessTokenRecord, ServiceAccountRecord, UnreadableItem } from '../dfns/port.js';
import { describeError, RotatorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DamagedSecret, InventoryItem, ScanSummary } from '../model.js';
import { versionWithStage } from '../secrets/stages.js';
import type { SecretStore, SecretSummary } from '../secrets/types.js';
import type { Notification } from '../notify/types.js';
import { byUrgency } from './core/classify.js';
import { ulid } from './queues/ids.js';
import type { Identities } from './identities/identities.js';
import { buildInventory, indexStore, type Listing, type UnreadableListed } from './core/inventory.js';
import type { ScanJobData } from './queues/job-data.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { MARKER_TTL_SECONDS, type OnceMarkers } from './state/once.js';
import { queueUnfinishedRotations } from './pending-adoption.js';
import { replacementName } from './core/rotation-machine.js';
import { rotationInFlight, type RotationStore } from './state/rotation-store.js';
import { countStates, planRotations, planWarnings, summarize, type PlannedWarning } from './core/scan-plan.js';
import type { Observation, ScanResults } from './state/scan-results.js';
import { readStoreTolerantly } from './effects/store-read.js';

export interface ScanDeps {
  identities: Identities;
  store: Pick<SecretStore, 'list' | 'get' | 'listReadable'>;
  policyFor: (subject: PolicySubject) => CredentialPolicy;
  /** Queues a rotation; false when one for that secret is already waiting or running. */
  requestRotation: (request: { secretName: string; reason: string; requestedBy: string; rotationId: string; requestedAt: number }) => Promise<boolean>;
  rotations: Pick<RotationStore, 'active' | 'get'>;
  /** True while a secret's last rotation failed recently: the scan leaves it to people until the cooldown ends. */
  inFailureCooldown: (secretName: string) => Promise<boolean>;
  notify: NotifyEnqueuer;
  markers: OnceMarkers;
  results: ScanResults;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  digest: 'daily' | 'off';
  /** Warnings sent one by one per scan; the rest go in one summary message. Default 20. */
  warningsPerScan?: number;
  /** Receives the classified inventory, most urgent first (`plan` prints it; a dry run saves no results). */
  onInventory?: (items: readonly InventoryItem[]) => void;
}

/** Every identity that could list failed: nothing is known, so the scan fails (and BullMQ retries it). */
export class ScanBlindError extends RotatorError {
  constructor(errors: { identity: string; message: string }[]) {
    super('SCAN_BLIND', `no identity could list credentials: ${errors.map((e) => `${e.identity}: ${e.message}`).join('; ')}`, { retryable: true });
  }
}

async function listAll(deps: ScanDeps, storeRead: Promise<SecretSummary[]>, errors: ScanSummary['errors']): Promise<Listing> {
  const operator = await deps.identities.operator().catch((err: unknown) => {
    errors.push({ identity: 'operator', message: describeError(err) });
    return null;
  });
  const watcher = await deps.identities.watcher().catch((err: unknown) => {
    errors.push({ identity: 'watcher', message: describeError(err) });
    return null;
  });

  let serviceAccounts: ServiceAccountRecord[] | null = null;
  const unreadable: UnreadableListed[] = [];
  const skipped = (port: DfnsPort, kind: UnreadableListed['kind'], items: readonly UnreadableItem[], owner?: string) => {
    for (const item of items) {
      const what = `${kind === 'pat' ? 'PAT' : 'service account'} ${item.id ?? `at position ${item.index}`}`;
      errors.push({ identity: port.identity, message: `${what} skipped: Dfns' answer for it is unreadable (${item.problem}); every other item was scanned` });
      if (item.id !== null) unreadable.push({ kind, id: item.id, problem: item.problem, ...(owner !== undefined ? { owner } : {}) });
    }
  };
  // The watcher needs no login; the operator is the fallback (and the only one when no watcher is set).
  for (const port of [watcher, operator].filter((p): p is DfnsPort => p !== null)) {
    try {
      const answer = await port.listServiceAccountsDetailed();
      serviceAccounts = answer.items;
      skipped(port, 'service-account', answer.unreadable);
      break;
    } catch (err) {
      errors.push({ identity: port.identity, message: `listing service accounts: ${describeError(err)}` });
    }
  }

  const pats: Listing['pats'] = [];
  if (operator) {
    try {
      const owner = deps.identities.operatorUsername ?? operator.identity;
      const answer = await operator.listPersonalAccessTokensDetailed();
      pats.push({ owner, records: answer.items });
      skipped(operator, 'pat', answer.unreadable, owner);
    } catch (err) {
      errors.push({ identity: operator.identity, message: `listing PATs: ${describeError(err)}` });
    }
  }
  // PAT listing returns only the caller's own PATs: other users' PATs are watched through one of
  // their stored tokens (one listing per owner).
  const summaries = await storeRead;
  const listedIds = new Set(pats.flatMap((p) => p.records.map((r) => r.tokenId)));
  for (const [owner, secretNames] of patOwners(summaries)) {
    // The operator's own PATs are already listed (and a stored PAT may be expired).
    if (secretNames.every((name) => listedIds.has(credentialIdOf(summaries, name) ?? ''))) continue;
    let listed: PersonalAccessTokenRecord[] | null = null;
    for (const secretName of secretNames) {
      try {
        const record = await deps.store.get(secretName);
        const current = record && versionWithStage(record.versions, 'current');
        if (!current?.value.accessToken) continue;
        const ownerId = readTokenIdentity(current.value.accessToken).userId ?? owner;
        const port = deps.identities.asSecret(current.value, `pat ${secretName}`);
        const answer = await port.listPersonalAccessTokensDetailed();
        listed = answer.items;
        pats.push({ owner: ownerId, records: listed });
        skipped(port, 'pat', answer.unreadable, ownerId);
        break;
      } catch (err) {
        errors.push({ identity: `pat ${secretName}`, message: `listing PATs: ${describeError(err)}` });
      }
    }
  }
  return { serviceAccounts, pats, unreadable };
}

function credentialIdOf(summaries: SecretSummary[], secretName: string): string | null | undefined {
  return summaries.find((s) => s.name === secretName)?.versions.find((v) => v.stages.includes('current'))?.metadata.credentialId;
}

/** Stored PAT secrets grouped by owner (the PAT's own id stands in when the owner is unknown). */
function patOwners(summaries: SecretSummary[]): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const s of summaries) {
    const current = s.versions.find((v) => v.stages.includes('current'));
    if (!current || current.kind !== 'pat') continue;
    const owner = current.metadata.ownerId ?? `secret:${s.name}`;
    owners.set(owner, [...(owners.get(owner) ?? []), s.name]);
  }
  return owners;
}

/** Slack paces at one message a second: a first scan of a large org must not post for an hour. */
export const DEFAULT_WARNINGS_PER_SCAN = DEFAULTS.warningsPerScan;

export async function runScan(deps: ScanDeps, data: ScanJobData): Promise<ScanSummary> {
  const startedAt = deps.clock.now();
  const scanId = ulid(startedAt);
  const errors: ScanSummary['errors'] = [];
  // The store is read while Dfns answers the listings (its file reads overlap the network wait);
  // a store error still fails the scan, where it is awaited.
  const storeRead = readStoreTolerantly(deps.store);
  storeRead.catch(() => undefined); // only marks it handled until awaited: the await below still throws
  const listing = await listAll(deps, storeRead.then((r) => r.summaries), errors);
  const { summaries, damaged } = await storeRead;
  for (const d of damaged) deps.logger.error({ secretName: d.secretName, where: d.where, problem: d.problem }, `unreadable secret in the store: ${d.action}`);
  if (listing.serviceAccounts === null && listing.pats.length === 0) throw new ScanBlindError(errors);
  if (listing.serviceAccounts === null) errors.push({ identity: 'scan', message: 'service accounts were not listed: their expiry is not watched this time' });

  const now = deps.clock.now();
  const items: InventoryItem[] = buildInventory({
    listing,
    store: indexStore(summaries),
    heldTokens: await deps.identities.heldTokens().catch(() => []),
    policyFor: deps.policyFor,
    operatorUsername: deps.identities.operatorUsername,
    now,
  }).sort(byUrgency);
  deps.onInventory?.(items);

  let rotationsQueued = 0;
  const rotating = new Set<string>();
  if (!data.dryRun) {
    // Before any rotation is queued: the daemon that plans it reads the old permission from here.
    await deps.results.observe(scanId, observations(listing, items, deps.identities.operatorUsername, now));
    for (const planned of planRotations(items)) {
      if (await skipRotation(deps, planned.secretName)) continue;
      const queued = await deps.requestRotation({ secretName: planned.secretName, reason: planned.reason, requestedBy: `scan ${scanId}`, rotationId: ulid(now), requestedAt: now });
      // Queued just now: its own outcome message will follow. One queued earlier and still not
      // done is another matter: the warning below is how a person learns it is stuck.
      if (queued) {
        rotationsQueued += 1;
        rotating.add(planned.item.key);
      }
    }
  }

  // Rotations the store says are under way but nothing drives (a job that stalled for good, a
  // record Redis lost): queue a job that resumes or adopts each.
  if (!data.dryRun) rotationsQueued += await queueUnfinishedRotations(deps, summaries, `scan ${scanId}`);

  let notificationsQueued = 0;
  if (!data.dryRun) {
    const policyOf = (i: InventoryItem) => deps.policyFor({ kind: i.kind, id: i.id, name: i.name, ...(i.secretName ? { secretName: i.secretName } : {}) });
    notificationsQueued += await queueWarnings(deps, planWarnings(items, (i) => policyOf(i).rotateBeforeDays, rotating), { scanId, at: now });
  }

  const finishedAt = deps.clock.now();
  if (!data.dryRun) notificationsQueued += await alertDamaged(deps, damaged);
  const summary: ScanSummary = { scanId, startedAt, finishedAt, counts: countStates(items), total: items.length, rotationsQueued, notificationsQueued, errors, ...(damaged.length > 0 ? { damaged } : {}) };
  if (!data.dryRun && deps.digest === 'daily') {
    const day = new Date(finishedAt).toISOString().slice(0, 10);
    const digest = {
      type: 'scan-digest' as const,
      scanId,
      at: finishedAt,
      total: items.length,
      counts: summary.counts,
      urgent: items.filter((i) => ['expired', 'rotate', 'warn', 'unknown'].includes(i.state)).slice(0, 25).map((i) => ({ credential: summarize(i), state: i.state, daysLeft: i.daysLeft })),
      rotationsQueued,
      errors,
    };
    if (await queueOnce(deps, `digest:${day}`, () => deps.notify.enqueue(digest))) summary.notificationsQueued += 1;
  }
  if (!data.dryRun) {
    await deps.results.save({ summary, items });
    deps.metrics.credentialsScanned(items, finishedAt);
    deps.metrics.storeUnreadable(damaged.length);
  }
  // The whole scan, saving its result and updating the gauges included.
  deps.logger.info({ scanId, trigger: data.trigger, total: summary.total, counts: summary.counts, rotationsQueued, notificationsQueued: summary.notificationsQueued, errors: errors.length, ms: deps.clock.now() - startedAt }, 'scan finished');
  return summary;
}

/**
 * What the listings said about each managed credential, so planning its rotation reads it from
 * Redis instead of asking Dfns again (a request per rotation saved).
 */
function observations(listing: Listing, items: readonly InventoryItem[], operatorUsername: string | null, at: number): Observation[] {
  const managed = new Set(items.filter((i) => i.managed && i.role === 'current').map((i) => i.key));
  const out: Observation[] = [];
  // Names are unique per org for service accounts and per owner for PATs: one index per listing.
  const saNames = new Map((listing.serviceAccounts ?? []).map((sa) => [sa.name, sa.id]));
  const nameCheck = (names: Map<string, string>, name: string) => {
    const next = replacementName(name, 1);
    return { name: next, holder: names.get(next) ?? null };
  };
  for (const sa of listing.serviceAccounts ?? []) {
    const permissionIds = permissionIdsOf(sa);
    if (!managed.has(`sa:${sa.id}`) || !permissionIds) continue;
    out.push({ kind: 'service-account', id: sa.id, permissionIds, ownedByOperator: false, at, replacementName: nameCheck(saNames, sa.name) });
  }
  for (const { owner, records } of listing.pats) {
    const patNames = new Map(records.map((pat) => [pat.name, pat.tokenId]));
    for (const pat of records) {
      const permissionIds = permissionIdsOf(pat);
      if (!managed.has(`pat:${pat.tokenId}`) || !permissionIds) continue;
      out.push({ kind: 'pat', id: pat.tokenId, permissionIds, ownedByOperator: operatorUsername !== null && owner === operatorUsername, at, replacementName: nameCheck(patNames, pat.name) });
    }
  }
  return out;
}

/** Null when the answer did not say (planning then asks Dfns). */
function permissionIdsOf(record: { permissionAssignments?: { permissionId: string }[] | null | undefined }): string[] | null {
  return record.permissionAssignments ? record.permissionAssignments.map((p) => p.permissionId) : null;
}

/** One alert per damaged secret and problem, not one per scan: the inventory keeps showing it. */
async function alertDamaged(deps: ScanDeps, damaged: readonly DamagedSecret[]): Promise<number> {
  let queued = 0;
  for (const d of damaged) {
    const marker = `damaged:${d.secretName}:${createHash('sha256').update(d.problem).digest('hex').slice(0, 16)}`;
    if (await queueOnce(deps, marker, () => deps.notify.enqueue({ type: 'store-damaged', secretName: d.secretName, where: d.where, problem: d.problem, action: d.action }))) queued += 1;
  }
  return queued;
}

/** A parked rotation waits for a person; a recently failed one is not retried every scan. */
async function skipRotation(deps: ScanDeps, secretName: string): Promise<boolean> {
  if ((await rotationInFlight(deps.rotations, secretName))?.step === 'parked') return true;
  return deps.inFailureCooldown(secretName);
}

/**
 * `queueOnce` for every warning, batched: thousands of credentials can cross a threshold on the
 * first scan, and one Redis round trip each made the enqueue most of the scan's time (see
 * bench/scan.bench.ts). Markers are claimed in one pipeline, the newly claimed warnings queued in
 * one `addBulk`, and every claim given back if that fails.
 */
async function queueWarnings(deps: ScanDeps, warnings: readonly PlannedWarning[], scan: { scanId: string; at: number }): Promise<number> {
  if (warnings.length === 0) return 0;
  const claimed = await deps.markers.claimAll(warnings.map((w) => w.markerKey), MARKER_TTL_SECONDS);
  // The worker's own identities first: if they lapse, nothing else gets watched.
  const due = warnings.filter((_, i) => claimed[i]).sort((a, b) => Number(b.notification.credential.isOwnIdentity === true) - Number(a.notification.credential.isOwnIdentity === true));
  const limit = deps.warningsPerScan ?? DEFAULT_WARNINGS_PER_SCAN;
  const individual = due.slice(0, limit).map((w) => w.notification);
  const rest = due.slice(limit).map((w) => w.notification);
  const batch: Notification[] = rest.length === 0 ? [] : [{
    type: 'expiry-batch',
    scanId: scan.scanId,
    at: scan.at,
    count: rest.length,
    counts: rest.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n.state]: (acc[n.state] ?? 0) + 1 }), {}),
    examples: rest.slice(0, 25).map((n) => ({ credential: n.credential, state: n.state, daysLeft: n.daysLeft })),
  }];
  try {
    await deps.notify.enqueueAll([...individual, ...batch]);
  } catch (err) {
    await deps.markers.releaseAll(due.map((w) => w.markerKey));
    throw err;
  }
  return individual.length + batch.length;
}

/** Claims the marker, queues, and gives the marker back if queueing failed (so the next scan tries again). */
async function queueOnce(deps: ScanDeps, markerKey: string, queue: () => Promise<void>): Promise<boolean> {
  if (!(await deps.markers.claim(markerKey, MARKER_TTL_SECONDS))) return false;
  try {
    await queue();
    return true;
  } catch (err) {
    await deps.markers.release(markerKey);
    throw err;
  }
}
