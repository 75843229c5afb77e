/**
 * How a person runs the CLI, in every command the tool prints (help, logs, Slack, inventory).
 * `npm ci` does not put package binaries on the PATH; `npx` finds them in the project's
 * node_modules (and in the Docker image's). One place, so every suggestion reads the same.
 */
export const CLI = 'npx dfns-rotator';

/** A complete command line: `npx dfns-rotator rotate demo/x --reason 'token has no expiry'`. */
export function cliCommand(...args: string[]): string {
  return [CLI, ...args.map(shellQuote)].join(' ');
}

/** Quotes an argument for POSIX shells only when it needs it, so names read plainly. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9._/:@=+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
