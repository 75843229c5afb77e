import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';

// The flags of the local servers (`dfns-rotator simulator`, `simulator vault`,
// `simulator aws-secrets-manager`): one strict parser and one numeric check, so each server's
// CLI says only which flags it has and what they mean.

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

/** Strict `parseArgs`: an unknown flag or a positional is a ConfigError naming `where`, with the usage line. */
export function parseServerFlags<O extends Options>(argv: string[], options: O, where: string, usage: string): Values<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError([(err as Error).message, usage], where);
  }
}

/**
 * A numeric flag's value, or undefined when it is absent or bad; a bad one adds
 * `--flag: must be <rule>, got "<value>"` to `problems`.
 */
export function numberFlag(value: string | undefined, flag: string, check: (n: number) => boolean, rule: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) {
    problems.push(`--${flag}: must be ${rule}, got "${value}"`);
    return undefined;
  }
  return n;
}

/** `numberFlag` for an integer in `min..max`. */
export function integerFlag(value: string | undefined, flag: string, min: number, max: number, problems: string[]): number | undefined {
  return numberFlag(value, flag, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer ${min}..${max}`, problems);
}
