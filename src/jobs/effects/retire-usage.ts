import type { Clock } from '../../clock.js';
import type { Config } from '../../config/types.js';
import { readTokenIdentity } from '../../dfns/jwt.js';
import type { ActionLogEntry, DfnsPort } from '../../dfns/port.js';
import { errorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { versionById } from '../../secrets/stages.js';
import type { SecretStore } from '../../secrets/types.js';
import type { Identities } from '../identities/identities.js';
import type { RetireUsage, RotationEvent, RotationRecord } from '../core/rotation-types.js';

/**
 * Before the old credential is deactivated: does anything still sign with it? Dfns' audit log of
 * signed actions (reads are not logged) is read from the promotion (+ a grace period for
 * consumers mid-switch) or from the last check, to now. Still in use: retirement is postponed by
 * the overlap again, up to `maxOverlapHours` after promotion; then it is held until a person
 * forces it. No `Auth:Logs:Read` (403) or no identity to read with: the overlap rule alone
 * applies, and the record says so. The Dfns call is the port's; this file only decides.
 */

export const NOT_CHECKED_NOTE = 'not checked: the overlap ended inside usageGraceMinutes (keep the grace shorter than the overlap)';

/** A postponement is never shorter than this, so `overlapHours: 0` cannot spin the retire job. */
export const MIN_POSTPONE_MS = 60_000;
/** Truncated answers (Dfns caps one at 100,000 rows) are followed page by page up to this many. */
const MAX_PAGES = 20;

export interface RetireUsageDeps {
  identities: Pick<Identities, 'operator' | 'watcher' | 'asSecret'>;
  store: Pick<SecretStore, 'get'>;
  config: Pick<Config, 'rotation'>;
  clock: Clock;
  logger: Logger;
}

export interface UsageDecision {
  event: Extract<RotationEvent, { type: 'usage-checked' }>;
  /** Retire now (true), or wait (`retireAt` moved, or held). */
  retire: boolean;
  /** One alert per rotation and outcome: the first postponement, and the hold. */
  alert: 'postponed' | 'held' | null;
}

/** What the log must be searched for: the old credential's signing user and, unless that user is the credential, its Key credential. */
interface Subject {
  userId: string;
  /** `cr-…` uuid (or credId) of the old Key credential; null: every action of `userId` is the old credential's. */
  credential: string | null;
}

type Sighting = { kind: 'seen'; lastUseAt: number | null; complete: boolean } | { kind: 'not-visible'; note: string };

export async function checkRetireUsage(deps: RetireUsageDeps, r: RotationRecord): Promise<UsageDecision> {
  const now = deps.clock.now();
  const rotation = deps.config.rotation;
  const postponements = r.usage?.postponements ?? 0;
  const base = { checkedAt: now, postponements };
  if (rotation.usageCheck === 'off') return proceed({ ...base, status: 'off', checkedUntil: null, lastUseAt: null });

  const from = r.usage?.checkedUntil ?? (r.promotedAt ?? now) + rotation.usageGraceMinutes * 60_000;
  if (from >= now) {
    // The overlap ended inside the grace period: there is nothing the log could show yet.
    return proceed({ ...base, status: 'unused', checkedUntil: null, lastUseAt: null, note: NOT_CHECKED_NOTE });
  }
  const sighting = await look(deps, r, from, now);
  if (sighting.kind === 'not-visible') {
    deps.logger.warn({ rotationId: r.rotationId, secretName: r.secretName, note: sighting.note }, 'cannot tell whether the old credential is still used: retiring after the overlap alone');
    return proceed({ ...base, status: 'not-visible', checkedUntil: null, lastUseAt: r.usage?.lastUseAt ?? null, note: sighting.note });
  }
  const lastUseAt = sighting.lastUseAt ?? null;
  if (lastUseAt === null && sighting.complete) return proceed({ ...base, status: 'unused', checkedUntil: now, lastUseAt: r.usage?.lastUseAt ?? null });

  const seenAt = lastUseAt ?? r.usage?.lastUseAt ?? from;
  const maxAt = (r.promotedAt ?? now) + rotation.maxOverlapHours * 3_600_000;
  if (now >= maxAt) {
    const usage: RetireUsage = { ...base, status: 'held', checkedUntil: now, lastUseAt: seenAt };
    return { event: { type: 'usage-checked', usage, retireAt: null }, retire: false, alert: r.usage?.status === 'held' ? null : 'held' };
  }
  const retireAt = Math.min(now + Math.max(rotation.overlapHours * 3_600_000, MIN_POSTPONE_MS), maxAt);
  const usage: RetireUsage = { ...base, status: 'in-use', checkedUntil: now, lastUseAt: seenAt, postponements: postponements + 1 };
  return { event: { type: 'usage-checked', usage, retireAt }, retire: false, alert: postponements === 0 ? 'postponed' : null };
}

function proceed(usage: RetireUsage): UsageDecision {
  return { event: { type: 'usage-checked', usage, retireAt: null }, retire: true, alert: null };
}

async function look(deps: RetireUsageDeps, r: RotationRecord, from: number, to: number): Promise<Sighting> {
  // Not configured is null; a login that fails throws, and the retire job retries: a transient
  // error must never read as "not visible" and let the overlap rule retire a credential in use.
  const readers = [await deps.identities.operator(), await deps.identities.watcher()].filter((p): p is DfnsPort => p !== null);
  if (readers.length === 0) return { kind: 'not-visible', note: 'no operator or watcher identity to read the audit log with' };
  let subject: Subject | null;
  try {
    subject = await subjectOf(deps, r);
  } catch (err) {
    if (!REFUSED.has(errorCode(err) ?? '')) throw err;
    return { kind: 'not-visible', note: `cannot tell which audit-log entries are the old credential's: Dfns refused to list its Key credentials (${errorCode(err)})` };
  }
  if (!subject) return { kind: 'not-visible', note: "cannot tell which audit-log entries are the old credential's (its Key credential is not listed)" };
  const refused: string[] = [];
  for (const reader of readers) {
    try {
      return await scan(reader, subject, from, to);
    } catch (err) {
      if (errorCode(err) !== 'DFNS_FORBIDDEN') throw err;
      refused.push(reader.identity);
    }
  }
  return { kind: 'not-visible', note: `${refused.join(' and ')} may not read the audit log (grant it Auth:Logs:Read)` };
}

/** Refusals that mean "cannot be known", not "try again". */
const REFUSED = new Set(['DFNS_FORBIDDEN', 'DFNS_NOT_FOUND', 'DFNS_UNAUTHORIZED']);

async function scan(reader: DfnsPort, subject: Subject, from: number, to: number): Promise<Sighting> {
  let lastUseAt: number | null = null;
  let start = from;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { entries, truncated } = await reader.listActionLogs({ startTime: start, endTime: to, userId: subject.userId });
    for (const e of entries) if (isSubject(e, subject) && (lastUseAt === null || e.datePerformed > lastUseAt)) lastUseAt = e.datePerformed;
    const last = entries.at(-1);
    // Rows come oldest first: a cut answer goes on from its last row.
    if (!truncated || !last || last.datePerformed <= start) return { kind: 'seen', lastUseAt, complete: !truncated };
    start = last.datePerformed;
  }
  return { kind: 'seen', lastUseAt, complete: false };
}

function isSubject(e: ActionLogEntry, s: Subject): boolean {
  return e.userId === s.userId && (s.credential === null || e.credentialId === s.credential);
}

/**
 * A replaced service account is its own user: every action it signs is the old credential's.
 * A PAT signs as its owner, and a rekeyed credential shares its user with the new key: there the
 * old Key credential's uuid picks the entries, listed with the old credential's own token.
 */
async function subjectOf(deps: RetireUsageDeps, r: RotationRecord): Promise<Subject | null> {
  if (r.kind === 'service-account' && r.strategy === 'replace') return { userId: r.old.credentialId, credential: null };
  const record = await deps.store.get(r.secretName);
  const old = record && versionById(record.versions, r.old.versionId);
  if (!old?.value.accessToken) return null;
  const userId = r.kind === 'service-account' ? r.old.credentialId : old.metadata.ownerId ?? readTokenIdentity(old.value.accessToken).userId;
  if (!userId) return null;
  const credentials = await deps.identities.asSecret(old.value, `usage ${r.secretName}`).listCredentials();
  const credential = credentials.find((c) => c.credentialId === r.old.credId);
  return credential ? { userId, credential: credential.credentialUuid } : null;
}
