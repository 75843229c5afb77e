import { newId } from './ids.js';

/**
 * Dfns' audit log of signed actions (`GET /auth/action/logs`): one entry per request that carried
 * a valid X-DFNS-USERACTION and succeeded. Reads are not logged, as at Dfns (dfns-api.md §9).
 */
export interface SimActionLogEntry {
  /** `uj-…` */
  id: string;
  /** Epoch ms on the simulator clock. */
  datePerformed: number;
  userId: string;
  username: string;
  /** The Key credential that signed (`cr-…`): the CSV's "Primary Credential ID". */
  credentialUuid: string;
  credId: string;
  publicKeyPem: string;
  method: string;
  actionPath: string;
  summary: string;
}

/** Column order of the documented CSV (docs.dfns.co list-audit-logs example). */
export const ACTION_LOG_COLUMNS = ['Date Performed', 'Audit Log ID', 'User ID', 'Username', 'Primary Credential ID', 'Action Path', 'Summary'] as const;

export class ActionLog {
  readonly #entries: SimActionLogEntry[] = [];
  readonly #byId = new Map<string, SimActionLogEntry>();

  record(entry: Omit<SimActionLogEntry, 'id'>): SimActionLogEntry {
    const full = { id: newId('uj'), ...entry };
    this.#entries.push(full);
    this.#byId.set(full.id, full);
    return full;
  }

  get(id: string): SimActionLogEntry | undefined {
    return this.#byId.get(id);
  }

  /** Entries in [startMs, endMs], oldest first, at most `maxRows` (then `truncated`). */
  query(startMs: number, endMs: number, userId: string | undefined, maxRows: number): { rows: SimActionLogEntry[]; truncated: boolean } {
    const rows: SimActionLogEntry[] = [];
    for (const e of this.#entries) {
      if (e.datePerformed < startMs || e.datePerformed > endMs) continue;
      if (userId !== undefined && e.userId !== userId) continue;
      if (rows.length >= maxRows) return { rows, truncated: true };
      rows.push(e);
    }
    return { rows, truncated: false };
  }

  all(): readonly SimActionLogEntry[] {
    return this.#entries;
  }
}

export function actionLogCsv(rows: readonly SimActionLogEntry[], truncated: boolean): string {
  const lines = [ACTION_LOG_COLUMNS.join(',')];
  for (const e of rows) {
    lines.push([new Date(e.datePerformed).toISOString(), e.id, e.userId, e.username, e.credentialUuid, e.actionPath, e.summary].map(csvField).join(','));
  }
  if (truncated) lines.push(`# TRUNCATED: more than ${rows.length} rows; narrow the time range to retrieve all data`);
  return lines.join('\n');
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
