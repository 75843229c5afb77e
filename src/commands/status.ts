import { systemClock } from '../clock.js';
import { QUEUE_NAMES } from '../jobs/queues/job-data.js';
import { loadCommandConfig, parseFlags } from './args.js';
import { relativeTime, STATE_ORDER } from './plan-view.js';
import { connectRedisParts } from '../parts/redis.js';
import { renderTable } from './render-table.js';
import { formatDuration } from '../notify/format-time.js';
import { gatherStatus, type StatusReport } from './status-report.js';
import type { Command } from './types.js';
import { cliCommand } from '../cli-name.js';

const USAGE = `npx dfns-rotator status [--json] [--config FILE]
  --json   print the report as one JSON object
Shows the last scan (age, counts by state, identity errors), each queue's jobs, rotations in
flight, failures of the last 24 hours, the notification backlog and Redis' eviction policy.
Exit code, for a cron or monitoring check: 0 healthy; 1 when the last scan finished longer ago
than twice the scan interval (or never), when a rotation failed in the last 24 hours, when a
queue is paused, when the last scan found an unreadable secret in the store, when Redis runs
with a maxmemory-policy other than noeviction, when a Dfns identity is degraded or failed (as
the daemon last found it), or when Redis cannot be reached.`;

const utc = (at: number) => `${new Date(at).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

/** The report as the lines a person reads. Pure. */
export function statusLines(r: StatusReport, columns?: number): string[] {
  const lines: string[] = [];
  lines.push(`dfns-rotator status at ${utc(r.at)}`);
  lines.push(`Redis: ${r.redis.where} (maxmemory-policy ${r.redis.evictionPolicy ?? 'unknown'})`);
  if (r.redis.evictionProblem) lines.push(`  warning: ${r.redis.evictionProblem}`);
  const s = r.scan;
  if (s.lastFinishedAt === null) {
    lines.push(`Last scan: none yet (schedule "${s.schedule}")`);
  } else {
    lines.push(`Last scan: ${utc(s.lastFinishedAt)} (${relativeTime(s.lastFinishedAt - r.at)}; schedule "${s.schedule}", stale after ${formatDuration(s.staleAfterMs)})`);
    if (s.counts && s.total !== null) {
      lines.push(`  ${s.total} credential${s.total === 1 ? '' : 's'}: ${STATE_ORDER.map((st) => `${st} ${s.counts![st]}`).join(', ')}; ${s.rotationsQueued ?? 0} rotation${s.rotationsQueued === 1 ? '' : 's'} queued`);
    }
    for (const e of s.identityErrors) lines.push(`  identity error: ${e.identity}: ${e.message}`);
  }
  for (const id of r.identities) lines.push(`Dfns identity ${id.identity}: ${id.state}${id.state === 'ok' ? '' : ` since ${utc(id.at)}: ${id.detail}`}`);
  lines.push('');
  const counts = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
  for (const line of renderTable(['QUEUE', ...counts.map((c) => c.toUpperCase())], QUEUE_NAMES.map((q) => [r.pausedQueues.includes(q) ? `${q} (PAUSED)` : q, ...counts.map((c) => String(r.queues[q][c]))]))) lines.push(line);
  lines.push('');
  const { inFlight, awaitingRetire, recentFailures } = r.rotations;
  lines.push(`Rotations in flight: ${inFlight.length}${awaitingRetire > 0 ? ` (and ${awaitingRetire} done, old credential awaiting retirement)` : ''}`);
  if (inFlight.length > 0) {
    const rows = inFlight.map((f) => [f.rotationId, f.secretName, f.step, `${utc(f.updatedAt)} (${relativeTime(f.updatedAt - r.at)})`, f.requestedBy]);
    for (const line of renderTable(['ROTATION', 'SECRET', 'STEP', 'SINCE', 'REQUESTED BY'], rows)) lines.push(`  ${line}`);
  }
  for (const h of r.rotations.heldRetirements) {
    lines.push(`Held for a person: ${h.secretName}'s old credential ${h.credential} still signs${h.lastUseAt !== null ? ` (last ${utc(h.lastUseAt)})` : ''}: \`${cliCommand('retire', h.rotationId, '--force', '--reason', 'its consumers have moved')}\` or --extend HOURS`);
  }
  lines.push(`Failed rotations (last 24 hours): ${recentFailures.length}`);
  if (recentFailures.length > 0) {
    const rows = recentFailures.map((f) => [utc(f.at), f.rotationId ?? '-', f.secretName ?? '-', f.step, f.error]);
    const width = columns === undefined ? undefined : columns - 2;
    for (const line of renderTable(['TIME', 'ROTATION', 'SECRET', 'STEP', 'ERROR'], rows, { shrink: 'ERROR', ...(width ? { maxWidth: width } : {}) })) lines.push(`  ${line}`);
  }
  lines.push(`Notification backlog: ${r.notifyBacklog}${r.queues.notify.failed > 0 ? ` (${r.queues.notify.failed} failed for good)` : ''}`);
  lines.push('');
  if (r.problems.length === 0) lines.push('OK');
  else for (const p of r.problems) lines.push(`PROBLEM: ${p}`);
  return lines;
}

/**
 * The daemon's health from Redis, for a person or a cron check: the last scan, the queues,
 * rotations in flight and failed, the notification backlog, Redis' eviction policy.
 */
export const statusCommand: Command = {
  name: 'status',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('status', USAGE, ctx.argv, { json: { type: 'boolean' }, config: { type: 'string' } });
    const config = loadCommandConfig(ctx, flags.config);
    const clock = ctx.clock ?? systemClock;
    const parts = await connectRedisParts(config, { err: ctx.err, logger: ctx.logger.child({ command: 'status' }) });
    if (!parts) return 1;
    try {
      const report = await gatherStatus(parts, config, clock.now());
      if (flags.json) ctx.out(JSON.stringify({ ...report, ok: report.problems.length === 0 }));
      else for (const line of statusLines(report, ctx.interactive ? ctx.columns : undefined)) ctx.out(line);
      return report.problems.length === 0 ? 0 : 1;
    } finally {
      await parts.close();
    }
  },
};
