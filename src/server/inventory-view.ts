import { relativeTime } from '../notify/format-time.js';
import { TERMINAL_STEPS, type RotationRecord } from '../jobs/core/rotation-types.js';
import { pendingRetirement, type PendingRetirement } from '../jobs/core/retire-facts.js';
import type { InventoryItem } from '../model.js';
import { cliCommand } from '../cli-name.js';

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

/** Whether consumers moved off a replaced credential (as far as Dfns' audit log shows), and when it is retired. */
export function retirementText(p: PendingRetirement, now: number): string {
  const when = (at: number) => `${formatRelative(at, now)} (${formatDate(at)})`;
  const lastUse = p.lastUseAt !== null ? `last signed ${formatDate(p.lastUseAt)}` : 'still signing';
  switch (p.usage) {
    case 'in-use':
      return `replaced, but consumers have not moved (${lastUse}, per Dfns' audit log): retirement postponed, checked again ${p.retireAt !== null ? when(p.retireAt) : 'later'}`;
    case 'held':
      return `replaced, but consumers have not moved (${lastUse}, per Dfns' audit log) at the maximum overlap: a person decides, \`${cliCommand('retire', p.rotationId, '--force', '--reason', 'its consumers have moved')}\` (or --extend HOURS)`;
    case 'not-visible':
      return `replaced; retired ${p.retireAt !== null ? when(p.retireAt) : 'after the overlap'} by the overlap rule alone: whether consumers moved is not visible (${p.note ?? 'no audit log access'})`;
    case 'forced':
      return `replaced; retirement forced (${p.note ?? 'by a person'})`;
    default:
      return p.retireAt !== null
        ? `replaced; retired ${when(p.retireAt)}${p.usage === 'off' ? '' : ", once Dfns' audit log shows no signed use since the promotion"}`
        : 'replaced; retirement pending';
  }
}

function nextAction(item: InventoryItem, rotation: RotationRecord | null, now: number): string {
  if (rotation) {
    if (rotation.step === 'parked') return `rotation ${rotation.rotationId} waits for a Dfns policy approval; re-trigger it once approved`;
    const retiring = pendingRetirement(rotation);
    if (retiring) return retirementText(retiring, now);
    if (rotation.step === 'deactivated') {
      const u = rotation.usage;
      if (u?.status === 'not-visible') return `replaced and deactivated after the overlap alone: whether consumers had moved was not visible (${u.note ?? 'no audit log access'}); archived next`;
      if (u?.status === 'forced') return `replaced and deactivated by a person (${u.note ?? 'forced'}); archived next`;
      return 'replaced and deactivated; archived next';
    }
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
