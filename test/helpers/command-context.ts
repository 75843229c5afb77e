import { Readable } from 'node:stream';
import type { Clock } from '../../src/clock.js';
import type { Command, CommandContext, ExitCode } from '../../src/commands/types.js';
import { createLogger } from '../../src/logger.js';

/** What one in-process run of a command printed and returned. */
export interface CommandRun {
  code: ExitCode;
  out: string[];
  err: string[];
  /** pino lines the command logged (at the CLI default level, info). */
  logs: string[];
  /** Everything it wrote anywhere, for "no secret printed" checks. */
  all: string;
}

export interface RunOptions {
  env: Record<string, string>;
  cwd: string;
  clock?: Clock;
  interactive?: boolean;
  columns?: number;
  stdin?: string;
}

/** Runs a command's `run(ctx)` the way cli.ts does, with output captured instead of written to the process. */
export async function runCommand(command: Command, argv: string[], options: RunOptions): Promise<CommandRun> {
  const out: string[] = [];
  const err: string[] = [];
  const logs: string[] = [];
  const ctx: CommandContext = {
    argv,
    env: options.env,
    cwd: options.cwd,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    logger: createLogger({ level: 'info', destination: { write: (s: string) => void logs.push(s) } }),
    signal: new AbortController().signal,
    interactive: options.interactive ?? false,
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
    ...(options.stdin !== undefined ? { stdin: Readable.from([Buffer.from(options.stdin)]) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const code = await command.run(ctx);
  return { code, out, err, logs, all: [...out, ...err, ...logs].join('\n') };
}

/**
 * Splits a rendered table into cells by the header's column offsets (cells may contain single
 * spaces, so splitting on whitespace would not do).
 */
export function parseTable(lines: readonly string[]): Record<string, string>[] {
  const [header, ...rows] = lines;
  if (!header) return [];
  const names = header.split(/\s{2,}/);
  const starts: number[] = [];
  for (const n of names) starts.push(header.indexOf(n, starts.length > 0 ? starts[starts.length - 1]! + 1 : 0));
  return rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row.slice(starts[i], starts[i + 1] ?? row.length).trim()])));
}
