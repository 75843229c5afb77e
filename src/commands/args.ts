import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { CommandContext } from './types.js';

/** Bad flags: the problem and the usage line. cli.ts maps it to exit code 2. */
export function usageError(command: string, usage: string, problems: string[]): ConfigError {
  return new ConfigError([...problems, `usage: ${usage}`], `${command} arguments`);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict `parseArgs`: unknown flags and positionals are usage errors, not ignored. */
type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>>;

export function parseFlags<O extends Options>(command: string, usage: string, argv: string[], options: O): Parsed<O, false>['values'] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw usageError(command, usage, [(err as Error).message]);
  }
}

/** Like `parseFlags`, with positional arguments (returned in order); unknown flags are still usage errors. */
export function parseFlagsAndPositionals<O extends Options>(command: string, usage: string, argv: string[], options: O): { flags: Parsed<O, true>['values']; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { flags: values, positionals };
  } catch (err) {
    throw usageError(command, usage, [(err as Error).message]);
  }
}

/** Loads the one validated config the way every command does: env and cwd from the context, files read from disk. */
export function loadCommandConfig(ctx: CommandContext, configPath: string | undefined, needs: { server?: boolean } = {}): Config {
  return loadConfig({ env: ctx.env, configPath: configPath ?? null, readFile: (p) => readFileSync(p, 'utf8'), cwd: ctx.cwd, needs });
}
