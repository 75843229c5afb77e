#!/usr/bin/env node
/**
 * The entry point, and the only file that touches `process`: argv, env, signals, exit codes.
 * Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { COMMANDS, helpText } from './commands/index.js';

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(helpText());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`dfns-rotator ${pkg.version}\n`);
    return 0;
  }
  if (name === 'start') {
    // Before the daemon allocates anything: see daemon/heap-flags.ts.
    const [{ setFlagsFromString }, { daemonV8Flags }] = await Promise.all([import('node:v8'), import('./daemon/heap-flags.js')]);
    for (const flag of daemonV8Flags(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`dfns-rotator: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  // Only now the command's own modules (and pino) load: `--version` and `--help` stay instant.
  const command = await entry.load();
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${entry.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
  const { createLogger } = await import('./logger.js');

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`second ${sig}: exiting now\n`);
      process.exit(1);
    }
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', destination: process.stderr as never });
  try {
    return await command.run({
      argv,
      env: process.env,
      cwd: process.cwd(),
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      logger,
      signal: controller.signal,
      interactive: Boolean(process.stdout.isTTY),
      ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
      // Lazy: touching process.stdin opens it, which only `--token-file -` wants.
      stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dfns-rotator ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`dfns-rotator ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Work a shutdown deadline abandoned (a Dfns request still in flight) must not keep the
    // process alive: it is safe to drop, every step it finished is saved.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`dfns-rotator: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
