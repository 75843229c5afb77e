import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

/**
 * What a command gets from cli.ts, the only file that touches `process`. Commands return an exit
 * code: 0 success, 1 failure at run time, 2 bad usage or configuration.
 */
export interface CommandContext {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Human output (tables, progress). */
  out: (line: string) => void;
  /** Human errors. */
  err: (line: string) => void;
  /** Structured logs. */
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: long-running commands shut down cleanly when it fires. */
  signal: AbortSignal;
  /** Whether stdout is a terminal (for colours and progress lines). */
  interactive: boolean;
  /** Terminal width when interactive, for tables; undefined: no limit. */
  columns?: number;
  /** Standard input (`--token-file -`); undefined: none. */
  stdin?: AsyncIterable<string | Buffer>;
  /** Default the system clock; tests pass the simulator's. */
  clock?: Clock;
}

export type ExitCode = 0 | 1 | 2;

export interface Command {
  name: string;
  usage: string;
  run(ctx: CommandContext): Promise<ExitCode>;
}

/** Waits until the signal fires. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
