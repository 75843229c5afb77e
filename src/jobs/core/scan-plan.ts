import type { CredentialState, InventoryItem } from '../../model.js';
import type { CredentialSummary, Notification } from '../../notify/types.js';
import { cliCommand } from '../../cli-name.js';
import type { RotationRecord } from './rotation-types.js';

/**
 * Pure decisions of a scan: which managed credentials to rotate, and which warnings are due.
 * A warning is identified by a marker key (credential + threshold), so the effectful scan can
 * send each one at most once however often it runs.
 */

export interface PlannedRotation {
  secretName: string;
  item: InventoryItem;
  strategy: 'replace' | 'rekey';
  reason: string;
}

export interface PlannedWarning {
  markerKey: string;
  notification: Extract<Notification, { type: 'expiry-warning' }>;
}

export function summarize(item: InventoryItem): CredentialSummary {
  return {
    key: item.key,
    kind: item.kind,
    id: item.id,
    name: item.name,
    ...(item.owner !== undefined ? { owner: item.owner } : {}),
    expiresAt: item.expiresAt,
    expirySource: item.expirySource,
    strategy: item.strategy,
    managed: item.managed,
    ...(item.isOwnIdentity ? { isOwnIdentity: true } : {}),
  };
}

function rotates(item: InventoryItem): item is InventoryItem & { strategy: 'replace' | 'rekey'; secretName: string } {
  return item.managed && item.role === 'current' && item.secretName !== undefined && (item.strategy === 'replace' || item.strategy === 'rekey');
}

export function planRotations(items: readonly InventoryItem[]): PlannedRotation[] {
  return items
    .filter((i) => i.state === 'rotate' || (i.state === 'expired' && rotates(i)))
    .filter(rotates)
    .map((item) => ({ secretName: item.secretName, item, strategy: item.strategy, reason: item.reason }));
}

/**
 * Warnings due now. Credentials the worker rotates itself are announced only once their rotation
 * is overdue (a threshold below the rotate-before window): before that, a warning is noise.
 */
export function planWarnings(items: readonly InventoryItem[], rotateBeforeDays: (item: InventoryItem) => number): PlannedWarning[] {
  const out: PlannedWarning[] = [];
  for (const item of items) {
    if (item.role === 'previous' || item.role === 'pending') continue;
    const auto = rotates(item);
    let markerKey: string | null = null;
    let thresholdDays: number | null = null;
    if (item.state === 'expired') markerKey = `expired:${item.key}`;
    else if (item.state === 'unknown') markerKey = `unknown:${item.key}`;
    else if ((item.state === 'warn' || item.state === 'rotate') && item.threshold !== null) {
      if (auto && item.threshold >= rotateBeforeDays(item)) continue;
      markerKey = `warn:${item.key}:${item.threshold}`;
      thresholdDays = item.threshold;
    }
    if (markerKey === null) continue;
    const nextAction =
      auto && item.state === 'unknown'
        ? `its token carries no expiry, so the worker cannot tell when to rotate it: rotate it once by hand (\`${cliCommand('rotate', item.secretName, '--reason', 'token has no known expiry')}\`) to get a token with a known expiry`
        : auto
          ? `the worker rotates it (strategy ${item.strategy}) but has not managed to yet: check \`${cliCommand('history', '--secret', item.secretName)}\` for the last rotation's error`
          : (item.action ?? 'rotate it by hand');
    out.push({
      markerKey,
      notification: {
        type: 'expiry-warning',
        credential: summarize(item),
        state: item.state as Extract<CredentialState, 'warn' | 'rotate' | 'expired' | 'unknown'>,
        thresholdDays,
        daysLeft: item.daysLeft,
        nextAction,
      },
    });
  }
  return out;
}

/**
 * The warnings left once this scan has queued its rotations: a credential whose rotation was
 * queued just now gets its rotation's own success or failure message instead. (One queued
 * earlier and still not done is another matter: its warning is how a person learns it is stuck.)
 */
export function withoutQueued(warnings: readonly PlannedWarning[], rotating: ReadonlySet<string>): PlannedWarning[] {
  return warnings.filter((w) => !rotating.has(w.notification.credential.key));
}

/**
 * Why the scan leaves a due rotation alone this time, or null to request it: a parked rotation
 * waits for a person, and a recently failed one is not retried every scan (the failure
 * cool-down). A rotation still running otherwise is requested anyway: the queue's dedupe adds
 * nothing for it.
 */
export function heldBack(facts: { inFlight: Pick<RotationRecord, 'step'> | null; inFailureCooldown: boolean }): 'parked' | 'cool-down' | null {
  if (facts.inFlight?.step === 'parked') return 'parked';
  return facts.inFailureCooldown ? 'cool-down' : null;
}

export function countStates(items: readonly InventoryItem[]): Record<CredentialState, number> {
  const counts: Record<CredentialState, number> = { ok: 0, warn: 0, rotate: 0, expired: 0, inactive: 0, unknown: 0 };
  for (const i of items) counts[i.state] += 1;
  return counts;
}
