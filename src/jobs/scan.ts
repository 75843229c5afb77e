import { createHash } from 'node:crypto';
import { DEFAULTS } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { DamagedSecret, InventoryItem, ScanSummary } from '../model.js';
import type { Notification } from '../notify/types.js';
import { ulid } from './queues/ids.js';
import type { Listing } from './core/inventory.js';
import type { ScanJobData } from './queues/job-data.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { MARKER_TTL_SECONDS, type OnceMarkers } from './state/once.js';
import { queueUnfinishedRotations } from './pending-adoption.js';
import { replacementName } from './core/rotation-machine.js';
import { rotationInFlight, type RotationStore } from './state/rotation-store.js';
import { heldBack, summarize, withoutQueued, type PlannedWarning } from './core/scan-plan.js';
import { scanSummary } from './core/scan-inventory.js';
import type { Observation, ScanResults } from './state/scan-results.js';
import { dryRunScan, logScanFinished, readInventory, type InventoryDeps, type InventoryRead } from './scan-read.js';

/**
 * The daemon's scan: `readInventory` (scan-read.ts: the listings, the store, the pure
 * classification, shared with `plan`), then `act` on it: save the observations, queue the due
 * rotations, send each warning once, save the paged results, update the gauges.
 */

export interface ScanDeps extends InventoryDeps {
  /** Queues a rotation; false when one for that secret is already waiting or running. */
  requestRotation: (request: { secretName: string; reason: string; requestedBy: string; rotationId: string; requestedAt: number }) => Promise<boolean>;
  rotations: Pick<RotationStore, 'active' | 'get'>;
  /** True while a secret's last rotation failed recently: the scan leaves it to people until the cooldown ends. */
  inFailureCooldown: (secretName: string) => Promise<boolean>;
  notify: NotifyEnqueuer;
  markers: OnceMarkers;
  results: ScanResults;
  metrics: Metrics;
  digest: 'daily' | 'off';
  /** Warnings sent one by one per scan; the rest go in one summary message. Default 20. */
  warningsPerScan?: number;
}

/** What `act` uses: the effects, not the reading. */
export type ActDeps = Omit<ScanDeps, 'identities' | 'store' | 'policyFor'>;

/** Slack paces at one message a second: a first scan of a large org must not post for an hour. */
export const DEFAULT_WARNINGS_PER_SCAN = DEFAULTS.warningsPerScan;

export async function runScan(deps: ScanDeps, data: ScanJobData): Promise<ScanSummary> {
  if (data.dryRun) return (await dryRunScan(deps, data)).summary;
  const read = await readInventory(deps);
  const summary = await act(deps, read);
  // The whole scan, saving its result and updating the gauges included.
  logScanFinished(deps, data, summary);
  return summary;
}

/** The effects of a scan, on what `readInventory` read and decided. */
export async function act(deps: ActDeps, read: InventoryRead): Promise<ScanSummary> {
  const { scanId, now, reading } = read;
  const { items, rotations, warnings } = read.inventory;
  // Before any rotation is queued: the daemon that plans it reads the old permission from here.
  await deps.results.observe(scanId, observations(reading.listing, items, reading.operatorUsername, now));
  let rotationsQueued = 0;
  const rotating = new Set<string>();
  for (const planned of rotations) {
    const [inFlight, inFailureCooldown] = await Promise.all([rotationInFlight(deps.rotations, planned.secretName), deps.inFailureCooldown(planned.secretName)]);
    if (heldBack({ inFlight, inFailureCooldown }) !== null) continue;
    const queued = await deps.requestRotation({ secretName: planned.secretName, reason: planned.reason, requestedBy: `scan ${scanId}`, rotationId: ulid(now), requestedAt: now });
    // Queued just now: its own outcome message will follow (and no warning, `withoutQueued`).
    if (queued) {
      rotationsQueued += 1;
      rotating.add(planned.item.key);
    }
  }

  // Rotations the store says are under way but nothing drives (a job that stalled for good, a
  // record Redis lost): queue a job that resumes or adopts each.
  rotationsQueued += await queueUnfinishedRotations(deps, reading.summaries, `scan ${scanId}`);

  let notificationsQueued = await queueWarnings(deps, withoutQueued(warnings, rotating), { scanId, at: now });

  const finishedAt = deps.clock.now();
  notificationsQueued += await alertDamaged(deps, reading.damaged);
  const summary = scanSummary({ scanId, startedAt: read.startedAt, finishedAt }, reading, items, { rotations: rotationsQueued, notifications: notificationsQueued });
  if (deps.digest === 'daily') {
    const day = new Date(finishedAt).toISOString().slice(0, 10);
    const digest = {
      type: 'scan-digest' as const,
      scanId,
      at: finishedAt,
      total: items.length,
      counts: summary.counts,
      urgent: items.filter((i) => ['expired', 'rotate', 'warn', 'unknown'].includes(i.state)).slice(0, 25).map((i) => ({ credential: summarize(i), state: i.state, daysLeft: i.daysLeft })),
      rotationsQueued,
      errors: reading.errors,
    };
    if (await queueOnce(deps, `digest:${day}`, () => deps.notify.enqueue(digest))) summary.notificationsQueued += 1;
  }
  await deps.results.save({ summary, items });
  deps.metrics.credentialsScanned(items, finishedAt);
  deps.metrics.storeUnreadable(reading.damaged.length);
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
async function alertDamaged(deps: ActDeps, damaged: readonly DamagedSecret[]): Promise<number> {
  let queued = 0;
  for (const d of damaged) {
    const marker = `damaged:${d.secretName}:${createHash('sha256').update(d.problem).digest('hex').slice(0, 16)}`;
    if (await queueOnce(deps, marker, () => deps.notify.enqueue({ type: 'store-damaged', secretName: d.secretName, where: d.where, problem: d.problem, action: d.action }))) queued += 1;
  }
  return queued;
}

/**
 * `queueOnce` for every warning, batched: thousands of credentials can cross a threshold on the
 * first scan, and one Redis round trip each made the enqueue most of the scan's time (see
 * bench/scan.bench.ts). Markers are claimed in one pipeline, the newly claimed warnings queued in
 * one `addBulk`, and every claim given back if that fails.
 */
async function queueWarnings(deps: ActDeps, warnings: readonly PlannedWarning[], scan: { scanId: string; at: number }): Promise<number> {
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
async function queueOnce(deps: ActDeps, markerKey: string, queue: () => Promise<void>): Promise<boolean> {
  if (!(await deps.markers.claim(markerKey, MARKER_TTL_SECONDS))) return false;
  try {
    await queue();
    return true;
  } catch (err) {
    await deps.markers.release(markerKey);
    throw err;
  }
}
