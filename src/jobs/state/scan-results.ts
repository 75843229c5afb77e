import type { CredentialKind, InventoryItem, ScanSummary } from '../../model.js';
import type { RedisClient } from '../../redis/connection.js';

/**
 * The last scan's result, kept in Redis for the dashboard's inventory page, `status` and the
 * metrics. Ids, names, dates and states only: no secret.
 *
 * Stored in pages, not as one string: at 50,000 credentials the result is ~20 MB of JSON, which
 * one GET would make every reader parse whole (and hold twice). A scan writes its pages (JSON
 * arrays of PAGE_SIZE items, most urgent first) into a hash of its own, then points `scan:current`
 * at it in one MULTI (every key shares the prefix's hash tag: one Cluster slot) and drops the
 * previous scan's hash. Readers read the pointer, then only the pages they show.
 */
export interface StoredScan {
  summary: ScanSummary;
  /** Sorted most urgent first. */
  items: InventoryItem[];
}

/** One page of the stored scan: its items, and where it sits among the others. */
export interface ScanPage extends StoredScan {
  page: { index: number; count: number; size: number };
}

/**
 * What a listing showed about a managed credential, kept so that planning its rotation need not
 * ask Dfns again: the permission the replacement must get, and whether the operator owns it (a
 * PAT listed by the operator's own listing).
 */
export interface Observation {
  kind: CredentialKind;
  id: string;
  permissionIds: string[];
  /** The operator's own listing showed it (a PAT the operator may replace). */
  ownedByOperator: boolean;
  /** When the listing answered (epoch ms). */
  at: number;
  /**
   * The first replacement name (`replacementName(name, 1)`) and the id listed under it, or null
   * when the listing showed it free: the create's name check without listing again (issue 12).
   */
  replacementName?: { name: string; holder: string | null };
}

export interface ScanResults {
  /**
   * Keeps what a scan's listings showed of managed credentials, replacing the previous scan's.
   * Called before the scan queues rotations, so that every daemon planning one finds it.
   */
  observe(scanId: string, observations: readonly Observation[]): Promise<void>;
  save(scan: StoredScan): Promise<void>;
  /** The last scan's summary, without its items. */
  summary(): Promise<(ScanSummary & { pages: number; pageSize: number }) | null>;
  /** One page of the last scan's items (0-based); null when no scan is stored. An index past the end gives an empty page. */
  page(index: number): Promise<ScanPage | null>;
  /** Every item of the last scan (restoring metrics at start, tests): prefer `page`. */
  load(): Promise<StoredScan | null>;
  /** What the last scan saw of one managed credential, or null. */
  observation(kind: CredentialKind, id: string): Promise<Observation | null>;
  /** Epoch ms of the last scan that finished (even with identity errors), or null. */
  lastSuccessAt(): Promise<number | null>;
}

export const PAGE_SIZE = 500;

interface Pointer {
  summary: ScanSummary;
  pages: number;
  pageSize: number;
  pagesKey: string;
}

const observationField = (kind: CredentialKind, id: string) => `${kind === 'service-account' ? 'sa' : 'pat'}:${id}`;

export function redisScanResults(redis: RedisClient, prefix: string): ScanResults {
  const currentKey = `${prefix}:scan:current`;
  /** Holds the name of the hash of the last scan's observations. */
  const observedPointerKey = `${prefix}:scan:observed`;
  const successKey = `${prefix}:scan:last-success-at`;
  /** Written by versions before pages; removed by the first paged save. */
  const legacyKey = `${prefix}:scan:last`;

  async function pointer(): Promise<Pointer | null> {
    const text = await redis.get(currentKey);
    return text ? (JSON.parse(text) as Pointer) : null;
  }

  async function readPage(p: Pointer, index: number): Promise<InventoryItem[] | null> {
    if (index < 0 || index >= p.pages) return [];
    const text = await redis.hget(p.pagesKey, String(index));
    return text === null ? null : (JSON.parse(text) as InventoryItem[]);
  }

  /** Reads against the current pointer; a save that replaced it meanwhile (its pages gone) means read again. */
  async function withPointer<T>(read: (p: Pointer) => Promise<T | null>): Promise<T | null> {
    for (let tries = 0; tries < 3; tries++) {
      const p = await pointer();
      if (!p) return null;
      const value = await read(p);
      if (value !== null) return value;
    }
    throw new Error('the stored scan kept changing while it was read; try again');
  }

  return {
    async observe(scanId, observations) {
      const previous = await redis.get(observedPointerKey);
      const observedKey = `${prefix}:scan:${scanId}:observed`;
      for (let first = 0; first < observations.length; first += 1000) {
        const fields = observations.slice(first, first + 1000).flatMap((o) => [observationField(o.kind, o.id), JSON.stringify(o)]);
        await redis.hset(observedKey, ...fields);
      }
      const tx = redis.multi().set(observedPointerKey, observedKey);
      if (previous && previous !== observedKey) tx.unlink(previous);
      await tx.exec();
    },
    async save(scan) {
      const previous = await pointer();
      const id = scan.summary.scanId;
      const pagesKey = `${prefix}:scan:${id}:pages`;
      const pages = Math.ceil(scan.items.length / PAGE_SIZE);
      // Written in chunks: one huge HSET would hold Redis (and this process) for the whole result.
      const PAGES_PER_WRITE = 10;
      for (let first = 0; first < pages; first += PAGES_PER_WRITE) {
        const fields: string[] = [];
        for (let i = first; i < Math.min(pages, first + PAGES_PER_WRITE); i++) fields.push(String(i), JSON.stringify(scan.items.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
        await redis.hset(pagesKey, ...fields);
      }
      const next: Pointer = { summary: scan.summary, pages, pageSize: PAGE_SIZE, pagesKey };
      const tx = redis.multi().set(currentKey, JSON.stringify(next)).set(successKey, String(scan.summary.finishedAt)).unlink(legacyKey);
      if (previous && previous.pagesKey !== pagesKey) tx.unlink(previous.pagesKey);
      await tx.exec();
    },
    async summary() {
      const p = await pointer();
      return p ? { ...p.summary, pages: p.pages, pageSize: p.pageSize } : null;
    },
    page(index) {
      return withPointer(async (p) => {
        const items = await readPage(p, index);
        return items === null ? null : { summary: p.summary, items, page: { index, count: p.pages, size: p.pageSize } };
      });
    },
    load() {
      return withPointer(async (p) => {
        const items: InventoryItem[] = [];
        for (let i = 0; i < p.pages; i++) {
          const page = await readPage(p, i);
          if (page === null) return null;
          for (const item of page) items.push(item);
        }
        return { summary: p.summary, items };
      });
    },
    async observation(kind, id) {
      const key = await redis.get(observedPointerKey);
      if (!key) return null;
      const text = await redis.hget(key, observationField(kind, id));
      return text ? (JSON.parse(text) as Observation) : null;
    },
    async lastSuccessAt() {
      const text = await redis.get(successKey);
      return text === null ? null : Number(text);
    },
  };
}
