import type { CredentialPolicy, PolicySubject } from '../../config/policy.js';
import type { DamagedSecret, InventoryItem, ScanSummary } from '../../model.js';
import type { SecretSummary } from '../../secrets/types.js';
import { byUrgency } from './classify.js';
import { classifyInventory, indexStore, type HeldToken, type Listing } from './inventory.js';
import { countStates, planRotations, planWarnings, type PlannedRotation, type PlannedWarning } from './scan-plan.js';

/**
 * The pure half of a scan: from what it read (the listings, the store, the tokens the worker
 * holds) to the classified inventory and what is due. `plan` stops here; the daemon's scan
 * then acts on it (`act` in scan.ts).
 */

/** What a scan read, Dfns and the store (`readScan` in scan-read.ts). */
export interface ScanReading {
  listing: Listing;
  summaries: SecretSummary[];
  /** Store secrets that could not be read. */
  damaged: DamagedSecret[];
  heldTokens: HeldToken[];
  /** The operator's username when it can rotate its own PATs. */
  operatorUsername: string | null;
  /** Identities that could not list, and items skipped. */
  errors: ScanSummary['errors'];
}

export interface ScanInventory {
  /** Most urgent first. */
  items: InventoryItem[];
  /** Managed credentials due for rotation (before the in-flight and cool-down checks, which read Redis). */
  rotations: PlannedRotation[];
  /** Warnings due, each with its once-marker (before the ones whose rotation this scan queues are left out). */
  warnings: PlannedWarning[];
}

export function inventory(reading: Pick<ScanReading, 'listing' | 'summaries' | 'heldTokens' | 'operatorUsername'>, policyFor: (subject: PolicySubject) => CredentialPolicy, now: number): ScanInventory {
  // Each credential's policy is resolved here once; the warnings read it from `policies`.
  const { items, policies } = classifyInventory({
    listing: reading.listing,
    store: indexStore(reading.summaries),
    heldTokens: reading.heldTokens,
    policyFor,
    operatorUsername: reading.operatorUsername,
    now,
  });
  items.sort(byUrgency);
  return { items, rotations: planRotations(items), warnings: planWarnings(items, (i) => policies.get(i.key)!.rotateBeforeDays) };
}

export function scanSummary(
  scan: { scanId: string; startedAt: number; finishedAt: number },
  reading: Pick<ScanReading, 'errors' | 'damaged'>,
  items: readonly InventoryItem[],
  queued: { rotations: number; notifications: number },
): ScanSummary {
  const { errors, damaged } = reading;
  return { scanId: scan.scanId, startedAt: scan.startedAt, finishedAt: scan.finishedAt, counts: countStates(items), total: items.length, rotationsQueued: queued.rotations, notificationsQueued: queued.notifications, errors, ...(damaged.length > 0 ? { damaged } : {}) };
}
