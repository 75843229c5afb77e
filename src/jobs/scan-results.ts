import type { InventoryItem, ScanSummary } from '../model.js';
import type { RedisClient } from '../redis/connection.js';

/**
 * The last scan's result, kept in Redis for the dashboard's inventory page, `status` and the
 * metrics. Ids, names, dates and states only: no secret.
 */
export interface StoredScan {
  summary: ScanSummary;
  /** Sorted most urgent first. */
  items: InventoryItem[];
}

export interface ScanResults {
  save(scan: StoredScan): Promise<void>;
  load(): Promise<StoredScan | null>;
  /** Epoch ms of the last scan that finished (even with identity errors), or null. */
  lastSuccessAt(): Promise<number | null>;
}

export function redisScanResults(redis: RedisClient, prefix: string): ScanResults {
  const lastKey = `${prefix}:scan:last`;
  const successKey = `${prefix}:scan:last-success-at`;
  return {
    async save(scan) {
      await redis.set(lastKey, JSON.stringify(scan));
      await redis.set(successKey, String(scan.summary.finishedAt));
    },
    async load() {
      const text = await redis.get(lastKey);
      return text ? (JSON.parse(text) as StoredScan) : null;
    },
    async lastSuccessAt() {
      const text = await redis.get(successKey);
      return text === null ? null : Number(text);
    },
  };
}
