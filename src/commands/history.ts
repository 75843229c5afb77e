import type { AuditEntry } from '../jobs/state/audit.js';
import { ULID_PATTERN } from '../jobs/queues/ids.js';
import { loadCommandConfig, parseFlags, usageError } from './args.js';
import { connectRedisParts } from '../parts/redis.js';
import { renderTable } from './render-table.js';
import type { Command } from './types.js';

const DEFAULT_LIMIT = 50;
/** A rotation has a dozen entries; retries, resumes and orphan clean-ups add a few. */
const DEFAULT_ROTATION_LIMIT = 500;
const MAX_LIMIT = 10_000;

const USAGE = `npx dfns-rotator history [--rotation ID] [--secret NAME] [--limit N] [--json] [--config FILE]
  --rotation ID   one rotation's entries, oldest first (its story, step by step)
  --secret NAME   entries about one secret
  --limit N       at most N entries (default ${DEFAULT_LIMIT}, or ${DEFAULT_ROTATION_LIMIT} with --rotation; max ${MAX_LIMIT})
  --json          print the entries as one JSON array
Without --rotation, newest first. Reads the audit log the daemons keep in Redis.`;

export const HISTORY_HEADERS = ['TIME (UTC)', 'ACTOR', 'ACTION', 'OUTCOME', 'SECRET', 'ROTATION', 'STEP', 'DETAIL'] as const;

export function historyRow(e: AuditEntry): string[] {
  return [
    new Date(e.at).toISOString().replace('T', ' ').slice(0, 19),
    e.actor,
    e.action,
    e.outcome,
    e.secretName ?? '-',
    e.rotationId ?? '-',
    e.step ?? '-',
    e.detail ?? '',
  ];
}

/**
 * The audit trail as a table: who did what to which credential, when, and how it went. Ids,
 * names and outcomes only: the audit log never holds a secret.
 */
export const historyCommand: Command = {
  name: 'history',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('history', USAGE, ctx.argv, {
      rotation: { type: 'string' },
      secret: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
    });
    const problems: string[] = [];
    if (flags.rotation !== undefined && !ULID_PATTERN.test(flags.rotation)) problems.push(`--rotation: "${flags.rotation}" is not a rotation id (26 characters, as \`rotate\` prints)`);
    if (flags.secret !== undefined && flags.secret.trim() === '') problems.push('--secret: empty');
    let limit = flags.rotation ? DEFAULT_ROTATION_LIMIT : DEFAULT_LIMIT;
    if (flags.limit !== undefined) {
      const n = Number(flags.limit);
      if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) problems.push(`--limit: must be an integer 1..${MAX_LIMIT}, got "${flags.limit}"`);
      else limit = n;
    }
    if (problems.length > 0) throw usageError('history', USAGE, problems);
    const config = loadCommandConfig(ctx, flags.config);
    const parts = await connectRedisParts(config, { err: ctx.err, logger: ctx.logger.child({ command: 'history' }) });
    if (!parts) return 1;
    try {
      const newestFirst = await parts.audit.read({ limit, ...(flags.rotation ? { rotationId: flags.rotation } : {}), ...(flags.secret ? { secretName: flags.secret } : {}) });
      const entries = flags.rotation ? [...newestFirst].reverse() : newestFirst;
      if (flags.json) {
        ctx.out(JSON.stringify(entries));
        return 0;
      }
      if (entries.length === 0) {
        const about = [flags.rotation && `rotation ${flags.rotation}`, flags.secret && `secret "${flags.secret}"`].filter(Boolean).join(' and ');
        ctx.out(`no audit entries${about ? ` for ${about}` : ''}`);
        return 0;
      }
      for (const line of renderTable(HISTORY_HEADERS, entries.map(historyRow), { shrink: 'DETAIL', ...(ctx.interactive && ctx.columns ? { maxWidth: ctx.columns } : {}) })) ctx.out(line);
      if (entries.length === limit) ctx.out(`(the ${limit} ${flags.rotation ? 'newest' : 'most recent'} entries; --limit N shows more)`);
      return 0;
    } finally {
      await parts.close();
    }
  },
};
