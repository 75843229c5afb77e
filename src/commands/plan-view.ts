import { relativeTime as relativeTimeAt } from '../notify/format-time.js';
import type { PlannedRotation } from '../jobs/core/scan-plan.js';
import type { CredentialState, DamagedSecret, InventoryItem, ScanSummary } from '../model.js';

/**
 * What `plan` shows, as pure functions of the inventory: the table cells, the summary lines and
 * the `--fail-on` check. Ids, names, dates and states only: an inventory item holds no secret.
 */

export const PLAN_HEADERS = ['STATE', 'KIND', 'NAME', 'ID', 'OWNER', 'EXPIRES', 'MANAGED/STRATEGY', 'ACTION'] as const;

/** Most urgent first, as `byUrgency` sorts. */
export const STATE_ORDER: readonly CredentialState[] = ['expired', 'rotate', 'warn', 'unknown', 'ok', 'inactive'];

/** `in 25 days`, `in 5 hours`, `3 days ago`: the one wording and rounding of every message. */
export function relativeTime(msLeft: number): string {
  return relativeTimeAt(msLeft, 0);
}

/** UTC date and distance, marked when it is an estimate (Dfns lists no expiry: see DESIGN.md). */
export function formatExpiry(item: Pick<InventoryItem, 'expiresAt' | 'expirySource'>, now: number): string {
  if (item.expiresAt === null) return 'unknown';
  const date = new Date(item.expiresAt).toISOString().slice(0, 10);
  const text = `${date} (${relativeTime(item.expiresAt - now)})`;
  return item.expirySource === 'estimate' ? `${text} ~ estimated` : text;
}

function managedCell(item: InventoryItem): string {
  const role = item.role === 'current' ? 'yes' : item.role === 'unmanaged' ? 'no' : item.role;
  return `${role}/${item.strategy}`;
}

function rotatesItself(item: InventoryItem): boolean {
  return item.role === 'current' && (item.strategy === 'replace' || item.strategy === 'rekey');
}

/** What happens next: the rotation a scan would queue, the step a person must take, or why nothing is due. */
export function actionText(item: InventoryItem, planned: ReadonlyMap<string, PlannedRotation>): string {
  const rotation = planned.get(item.key);
  if (rotation) return `would queue a ${rotation.strategy} rotation: ${rotation.reason}`;
  if (item.action) return item.action;
  if (item.state === 'ok' || item.state === 'inactive') return '';
  if (item.state === 'warn' && rotatesItself(item)) return `the worker rotates it (${item.strategy}) once inside the rotation window`;
  return item.reason;
}

export function planRow(item: InventoryItem, now: number, planned: ReadonlyMap<string, PlannedRotation>): string[] {
  return [
    item.isOwnIdentity ? `${item.state}*` : item.state,
    item.kind === 'service-account' ? 'sa' : 'pat',
    item.name,
    item.id,
    item.owner ?? '-',
    formatExpiry(item, now),
    managedCell(item),
    actionText(item, planned),
  ];
}

/** A store secret the scan could not read, as a plan row in state `error`. */
export function damagedRow(d: DamagedSecret): string[] {
  return ['error', 'secret', d.secretName, '-', '-', 'unknown', 'not read', `${d.problem}; ${d.action}`];
}

/** `12 credentials: expired 1, rotate 2, …` plus what a scan would queue and what could not be listed. */
export function summaryLines(summary: ScanSummary, planned: number, hasOwnIdentity: boolean): string[] {
  const counts = STATE_ORDER.map((s) => `${s} ${summary.counts[s]}`).join(', ');
  const lines = [`${summary.total} credential${summary.total === 1 ? '' : 's'}: ${counts}; a scan would queue ${planned} rotation${planned === 1 ? '' : 's'}`];
  if (hasOwnIdentity) lines.push('* the worker\'s own identity (its token is in its configuration, not in the store)');
  const damaged = summary.damaged?.length ?? 0;
  if (damaged > 0) lines.push(`${damaged} unreadable secret${damaged === 1 ? '' : 's'} in the store (state error above): ${damaged === 1 ? 'its credential is' : 'their credentials are'} watched as unmanaged and not rotated until repaired`);
  if (summary.errors.length > 0) {
    lines.push(`${summary.errors.length} identity error${summary.errors.length === 1 ? '' : 's'} (these credentials may be missing above):`);
    for (const e of summary.errors) lines.push(`  ${e.identity}: ${e.message}`);
  }
  return lines;
}

/** `--fail-on` accepts the states plus `error` (an identity could not list). */
export type FailOn = CredentialState | 'error';
export const FAIL_ON_VALUES: readonly FailOn[] = [...STATE_ORDER, 'error'];

export function parseFailOn(text: string): { states: Set<FailOn>; unknown: string[] } {
  const parts = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const unknown = parts.filter((p) => !(FAIL_ON_VALUES as readonly string[]).includes(p));
  return { states: new Set(parts.filter((p): p is FailOn => !unknown.includes(p))), unknown };
}

/**
 * Why `--fail-on` fails, or null. Versions already replaced (`previous`) or still being created
 * (`pending`) do not count: the rotation that made them owns them.
 */
export function failOnReason(items: readonly InventoryItem[], summary: ScanSummary, failOn: ReadonlySet<FailOn>): string | null {
  const hits = items.filter((i) => failOn.has(i.state) && i.role !== 'previous' && i.role !== 'pending');
  const reasons: string[] = [];
  if (hits.length > 0) {
    const byState = STATE_ORDER.filter((s) => hits.some((h) => h.state === s)).map((s) => `${hits.filter((h) => h.state === s).length} ${s}`);
    reasons.push(`${byState.join(', ')} (${hits.slice(0, 5).map((h) => h.name).join(', ')}${hits.length > 5 ? ', …' : ''})`);
  }
  if (failOn.has('error') && summary.errors.length > 0) reasons.push(`${summary.errors.length} identity error${summary.errors.length === 1 ? '' : 's'}`);
  const damaged = summary.damaged?.length ?? 0;
  if (failOn.has('error') && damaged > 0) reasons.push(`${damaged} unreadable secret${damaged === 1 ? '' : 's'} in the store`);
  return reasons.length > 0 ? reasons.join('; ') : null;
}
