import { appendFile } from 'node:fs/promises';
import type { RedisClient } from '../../redis/connection.js';

/**
 * The audit trail: one entry per rotation step and per manual action, readable by a person
 * (`dfns-rotator history`). Who, what, when, outcome — never a secret. Kept in a Redis stream
 * shared by every daemon, and mirrored to an append-only JSON-lines file when configured.
 */
export interface AuditEntry {
  at: number;
  /** `scan`, `worker:<host>`, `dashboard`, `cli:<user>`. */
  actor: string;
  action: string;
  outcome: 'ok' | 'failed' | 'waiting' | 'info';
  rotationId?: string;
  secretName?: string;
  /** `sa:us-…` / `pat:to-…` */
  credential?: string;
  step?: string;
  detail?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first; filtered by rotation or secret when given. */
  read(options: { limit: number; rotationId?: string; secretName?: string }): Promise<AuditEntry[]>;
}

/** About a year of a busy org's steps; the stream is trimmed approximately (cheap) beyond it. */
const STREAM_MAX_LENGTH = 200_000;

export function redisAuditLog(redis: RedisClient, prefix: string, file: string | null = null): AuditLog {
  const key = `${prefix}:audit`;
  return {
    async record(entry) {
      const line = JSON.stringify(entry);
      await redis.xadd(key, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 'entry', line);
      if (file) await appendFile(file, `${line}\n`, { mode: 0o600 });
    },
    async read({ limit, rotationId, secretName }) {
      const out: AuditEntry[] = [];
      let end = '+';
      // Page backwards until enough matching entries are found.
      while (out.length < limit) {
        const page = (await redis.xrevrange(key, end, '-', 'COUNT', 500)) as [string, string[]][];
        if (page.length === 0) break;
        for (const [, fields] of page) {
          const text = fields[fields.indexOf('entry') + 1];
          if (!text) continue;
          const e = JSON.parse(text) as AuditEntry;
          if (rotationId && e.rotationId !== rotationId) continue;
          if (secretName && e.secretName !== secretName) continue;
          out.push(e);
          if (out.length >= limit) break;
        }
        const lastId = page[page.length - 1]![0];
        end = `(${lastId}`;
        if (page.length < 500) break;
      }
      return out;
    },
  };
}
