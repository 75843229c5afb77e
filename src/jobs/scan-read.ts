import type { Clock } from '../clock.js';
import type { CredentialPolicy, PolicySubject } from '../config/policy.js';
import { readTokenIdentity } from '../dfns/jwt.js';
import type { DfnsPort, PersonalAccessTokenRecord, ServiceAccountRecord, UnreadableItem } from '../dfns/port.js';
import { describeError, RotatorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ScanSummary } from '../model.js';
import { versionWithStage } from '../secrets/stages.js';
import type { SecretStore, SecretSummary } from '../secrets/types.js';
import type { Identities } from './identities/identities.js';
import type { Listing, UnreadableListed } from './core/inventory.js';
import { inventory, scanSummary, type ScanInventory, type ScanReading } from './core/scan-inventory.js';
import { ulid } from './queues/ids.js';
import type { ScanJobData } from './queues/job-data.js';
import { readStoreTolerantly } from './effects/store-read.js';

/**
 * The read-only half of a scan, shared by the daemon's scan and `plan`: list every credential
 * through the identities, read the store, and classify (`inventory`, pure). Nothing here needs
 * Redis, queues or notifies.
 */

export interface InventoryDeps {
  identities: Identities;
  store: Pick<SecretStore, 'list' | 'get' | 'listReadable'>;
  policyFor: (subject: PolicySubject) => CredentialPolicy;
  clock: Clock;
  logger: Logger;
}

/** Every identity that could list failed: nothing is known, so the scan fails (and BullMQ retries it). */
export class ScanBlindError extends RotatorError {
  constructor(errors: { identity: string; message: string }[]) {
    super('SCAN_BLIND', `no identity could list credentials: ${errors.map((e) => `${e.identity}: ${e.message}`).join('; ')}`, { retryable: true });
  }
}

/** One scan's reading and inventory. */
export interface InventoryRead {
  scanId: string;
  startedAt: number;
  /** When the inventory was classified. */
  now: number;
  reading: ScanReading;
  inventory: ScanInventory;
}

/** Reads Dfns and the store, then classifies: the first part of every scan. */
export async function readInventory(deps: InventoryDeps): Promise<InventoryRead> {
  const startedAt = deps.clock.now();
  const scanId = ulid(startedAt);
  const reading = await readScan(deps);
  const now = deps.clock.now();
  return { scanId, startedAt, now, reading, inventory: inventory(reading, deps.policyFor, now) };
}

/** A scan that only reads and classifies (`plan`, a dry-run scan job): it queues, records and notifies nothing. */
export async function dryRunScan(deps: InventoryDeps, data: ScanJobData): Promise<{ read: InventoryRead; summary: ScanSummary }> {
  const read = await readInventory(deps);
  const summary = scanSummary({ scanId: read.scanId, startedAt: read.startedAt, finishedAt: deps.clock.now() }, read.reading, read.inventory.items, { rotations: 0, notifications: 0 });
  logScanFinished(deps, data, summary);
  return { read, summary };
}

/** The scan's one log line; its duration is the whole scan, saving its result and updating the gauges included. */
export function logScanFinished(deps: Pick<InventoryDeps, 'clock' | 'logger'>, data: ScanJobData, summary: ScanSummary): void {
  const { scanId, total, counts, rotationsQueued, notificationsQueued, errors } = summary;
  deps.logger.info({ scanId, trigger: data.trigger, total, counts, rotationsQueued, notificationsQueued, errors: errors.length, ms: deps.clock.now() - summary.startedAt }, 'scan finished');
}

/** Lists through the identities while the store is read; throws `ScanBlindError` when nothing could be listed. */
export async function readScan(deps: Pick<InventoryDeps, 'identities' | 'store' | 'logger'>): Promise<ScanReading> {
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
  const heldTokens = await deps.identities.heldTokens().catch(() => []);
  return { listing, summaries, damaged, heldTokens, operatorUsername: deps.identities.operatorUsername, errors };
}

async function listAll(deps: Pick<InventoryDeps, 'identities' | 'store'>, storeRead: Promise<SecretSummary[]>, errors: ScanSummary['errors']): Promise<Listing> {
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

