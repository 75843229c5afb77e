import { relativeTime } from '../notify/format-time.js';
import { TERMINAL_STEPS, type RotationRecord } from '../jobs/rotation-types.js';
import type { InventoryItem } from '../model.js';

/**
 * What the inventory page shows for one credential, worked out from the stored scan, the recent
 * rotations and `now` (pure: the page is rendered at `now`, which may be well after the scan).
 */
export interface InventoryRow {
  item: InventoryItem;
  expiry:
    | { known: true; date: string; relative: string; estimated: boolean; past: boolean }
    | { known: false };
  management: string;
  lastRotation: string | null;
  nextAction: string;
}

/** `2026-03-01 14:05 UTC`: one timezone for everyone reading the same page. */
export function formatDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `in 3 days`, `5 hours ago`, `in 12 minutes`. Whole units, rounded down. */
export function formatRelative(target: number, now: number): string {
  return relativeTime(target, now);
}

export function inventoryRows(items: readonly InventoryItem[], rotations: readonly RotationRecord[], now: number): InventoryRow[] {
  return items.map((item) => {
    const expiry: InventoryRow['expiry'] =
      item.expiresAt === null
        ? { known: false }
        : {
            known: true,
            date: formatDate(item.expiresAt),
            relative: formatRelative(item.expiresAt, now),
            estimated: item.expirySource === 'estimate',
            past: item.expiresAt <= now,
          };
    const management = item.managed
      ? `managed · ${item.strategy}`
      : item.role === 'unmanaged'
        ? `unmanaged · ${item.strategy}`
        : `${item.role} version · ${item.strategy}`;
    return {
      item,
      expiry,
      management,
      lastRotation:
        item.lastRotatedAt !== undefined
          ? `${formatDate(item.lastRotatedAt)} (${formatRelative(item.lastRotatedAt, now)})`
          : item.adoptedAt !== undefined
            ? `never; adopted ${formatDate(item.adoptedAt)} (${formatRelative(item.adoptedAt, now)})`
            : null,
      nextAction: nextAction(item, rotationOf(item, rotations), now),
    };
  });
}

/** The most recent rotation that replaces this credential and is not finished. */
function rotationOf(item: InventoryItem, rotations: readonly RotationRecord[]): RotationRecord | null {
  let found: RotationRecord | null = null;
  for (const r of rotations) {
    if (r.kind !== item.kind || r.old.credentialId !== item.id || TERMINAL_STEPS.has(r.step)) continue;
    if (!found || r.updatedAt > found.updatedAt) found = r;
  }
  return found;
}

function nextAction(item: InventoryItem, rotation: RotationRecord | null, now: number): string {
  if (rotation) {
    if (rotation.step === 'parked') return `rotation ${rotation.rotationId} waits for a Dfns policy approval; re-trigger it once approved`;
    if (rotation.retireAt !== null && ['retire-scheduled', 'announced', 'promoted'].includes(rotation.step)) {
      return `replaced; retired ${formatRelative(rotation.retireAt, now)} (${formatDate(rotation.retireAt)})`;
    }
    if (rotation.step === 'deactivated') return 'replaced and deactivated; archived next';
    return `rotation in progress (step: ${rotation.step})`;
  }
  if (item.action) return item.action;
  switch (item.state) {
    case 'expired':
      return item.strategy === 'notify' ? 'expired: replace it by hand' : 'expired: rotation due now';
    case 'rotate':
      return item.strategy === 'notify' ? 'rotate it by hand' : `rotation (${item.strategy}) queued by the scan`;
    case 'warn':
      return item.strategy === 'notify' ? 'warnings only' : 'rotates automatically inside the rotation window';
    case 'unknown':
      return 'check its expiry by hand';
    case 'inactive':
      return 'none (deactivated)';
    case 'ok':
      return item.strategy === 'notify' ? 'none yet (warnings only)' : 'none yet';
  }
}
