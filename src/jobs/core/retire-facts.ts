import type { CredentialKind } from '../../model.js';
import type { RetireUsage, RotationRecord } from './rotation-types.js';

/**
 * Replaced credentials not yet retired, and what Dfns' audit log told about them: for the
 * inventory ("have consumers moved?") and the metrics. Pure, from rotation records.
 */
export interface PendingRetirement {
  rotationId: string;
  secretName: string;
  kind: CredentialKind;
  /** The old credential's Dfns id and name. */
  credentialId: string;
  name: string;
  /** When it is retired (or checked again); null when held for a person. */
  retireAt: number | null;
  /** `pending`: not checked yet (the overlap is still running). */
  usage: RetireUsage['status'] | 'pending';
  lastUseAt: number | null;
  note: string | null;
}

const WAITING_STEPS = new Set(['promoted', 'announced', 'retire-scheduled']);

export function pendingRetirement(r: RotationRecord): PendingRetirement | null {
  if (r.promotedAt === null || !WAITING_STEPS.has(r.step)) return null;
  const held = r.usage?.status === 'held';
  return {
    rotationId: r.rotationId,
    secretName: r.secretName,
    kind: r.kind,
    credentialId: r.old.credentialId,
    name: r.old.name,
    retireAt: held ? null : r.retireAt,
    usage: r.usage?.status ?? 'pending',
    lastUseAt: r.usage?.lastUseAt ?? null,
    note: r.usage?.note ?? null,
  };
}

export function pendingRetirements(records: readonly RotationRecord[]): PendingRetirement[] {
  const out: PendingRetirement[] = [];
  for (const r of records) {
    const p = pendingRetirement(r);
    if (p) out.push(p);
  }
  return out;
}
