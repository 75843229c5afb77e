import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { realSleep, systemClock } from '../clock.js';
import { writeFileAtomic } from '../secrets/atomic-write.js';
import { renderCredential, type ConsumerFormat } from '../secrets/consumer-formats.js';
import { versionWithStage } from '../secrets/stages.js';
import { loadCommandConfig, usageError } from './args.js';
import { openStoreReadOnly } from '../parts/store.js';
import type { CommandContext, ExitCode } from './types.js';

/**
 * `secret sync`: a sidecar for services that read a file (like a Vault Agent template or the AWS
 * Secrets Manager agent). Each round reads the secret's current version; when the rendered file
 * would change it is written atomically (temp file 0600, fsync, rename) and CMD runs, once, to
 * tell the service (a reload signal, a restart). The first write of a file that did not exist
 * runs no CMD: nothing can have read it yet. A failed read or CMD is reported and the next round
 * tries again; the file is never emptied. SIGTERM/SIGINT end it cleanly (a running CMD finishes).
 */
export const DEFAULT_SYNC_INTERVAL_S = 60;

interface SyncFlags {
  config?: string | undefined;
  format?: string | undefined;
  out?: string | undefined;
  exec?: string | undefined;
  interval?: string | undefined;
  stage?: string | undefined;
  field?: string | undefined;
  show?: boolean | undefined;
}

export async function runSecretSync(ctx: CommandContext, usage: string, name: string, flags: SyncFlags): Promise<ExitCode> {
  const problems: string[] = [];
  if (!flags.out) problems.push('--out FILE: required, the file to keep in step');
  if (flags.field !== undefined || flags.stage !== undefined || flags.show) problems.push('sync writes the current version whole: --field, --stage and --show do not apply');
  const interval = flags.interval === undefined ? DEFAULT_SYNC_INTERVAL_S : Number(flags.interval);
  if (!Number.isFinite(interval) || interval <= 0 || interval > 86_400) problems.push(`--interval: "${flags.interval}" is not a number of seconds between 0 and 86400`);
  if (flags.exec !== undefined && flags.exec.trim() === '') problems.push('--exec: empty command');
  if (problems.length > 0) throw usageError('secret', usage, problems);
  const format = (flags.format ?? 'json') as ConsumerFormat;
  const out = resolve(ctx.cwd, flags.out!);
  const config = loadCommandConfig(ctx, flags.config);
  const logger = ctx.logger.child({ command: 'secret sync', secret: name });
  const { store, note } = openStoreReadOnly(config, logger, ctx.clock ?? systemClock);
  if (note) ctx.err(`note: ${note}`);

  let written = await readFile(out, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
  let lastProblem = '';
  ctx.out(`syncing ${name} (${format}) to ${out} every ${interval} s${flags.exec ? `, then: ${flags.exec}` : ''}`);
  try {
    while (!ctx.signal.aborted) {
      try {
        const record = await store.get(name);
        const current = record && versionWithStage(record.versions, 'current');
        if (!current) throw new Error(`no current version of "${name}" in the store`);
        const text = renderCredential(current, format);
        if (text !== written) {
          const existed = written !== null;
          await writeFileAtomic(out, join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`), Buffer.from(text, 'utf8'));
          written = text;
          ctx.out(`wrote ${out}: ${name} version ${current.versionId}`);
          if (flags.exec && existed) await runHook(ctx, flags.exec, { DFNS_ROTATOR_SECRET: name, DFNS_ROTATOR_VERSION: String(current.versionId), DFNS_ROTATOR_FILE: out });
        }
        lastProblem = '';
      } catch (err) {
        const problem = err instanceof Error ? err.message : String(err);
        // Once per distinct problem, not every round.
        if (problem !== lastProblem) ctx.err(`secret sync: ${problem}; keeping ${out} as it is and trying again in ${interval} s`);
        lastProblem = problem;
      }
      await realSleep(interval * 1000, ctx.signal).catch(() => undefined);
    }
    ctx.out(`stopped syncing ${name}`);
    return 0;
  } finally {
    await store.close?.();
  }
}

/** Runs CMD with `sh -c`, its output passed through; a failure is reported, never fatal. */
function runHook(ctx: CommandContext, command: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...ctx.env, ...env } });
    child.on('error', (err) => {
      ctx.err(`secret sync: --exec could not start: ${err.message}`);
      resolvePromise();
    });
    child.on('exit', (code, signal) => {
      if (code === 0) ctx.out(`ran: ${command}`);
      else ctx.err(`secret sync: --exec exited with ${signal ?? `code ${code}`}: ${command}`);
      resolvePromise();
    });
  });
}
