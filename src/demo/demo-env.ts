import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { CLI, shellQuote } from '../cli-name.js';
import { configFromEnv, ENV_VARS } from '../config/env.js';

/**
 * What the demo leaves for a second terminal: the environment the demo's daemon runs with, as
 * `DIR/env` (shell `export` lines, sourced with `. DIR/env`) and as `DIR/config.yaml` (the same
 * settings in the config file's shape, for `--config`). Secrets stay in files beside them (mode
 * 0600) and are referenced by `*_FILE` variables, never inlined.
 */
export const DEMO_ENV_FILE = 'env';
export const DEMO_CONFIG_FILE = 'config.yaml';

export interface DemoFiles {
  envFile: string;
  configFile: string;
}

/**
 * `env`: the daemon's settings (what the config reads); `extra`: what the CLI needs besides them
 * (e.g. the local AWS server's credentials file), which the config file cannot carry.
 */
export function writeDemoEnvironment(dir: string, env: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>> = {}): DemoFiles {
  const envFile = join(dir, DEMO_ENV_FILE);
  const configFile = join(dir, DEMO_CONFIG_FILE);
  const lines = [
    `# The running demo's settings (written by \`${CLI} demo\`; valid while it runs, recreated by each run).`,
    `# In another terminal:  . ${shellQuote(envFile)}   then   ${CLI} status`,
    ...Object.entries({ ...env, ...extra }).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '',
  ];
  writeFileSync(envFile, lines.join('\n'), { mode: 0o600 });
  // The config file's shape is what the environment maps to: one table (src/config/env.ts) decides both.
  const { raw } = configFromEnv(env);
  // What the file cannot hold: secrets given as values (e.g. the local Vault's demo token become
  // `{ env: VAULT_TOKEN }` references) and the CLI's extras.
  const secretValues = ENV_VARS.filter((v) => v.kind === 'secret-env' && env[v.name] !== undefined).map((v) => v.name);
  const needsEnv = [...secretValues, ...Object.keys(extra)];
  const header = [
    `# The running demo's settings, for \`${CLI} <command> --config ${shellQuote(configFile)}\`.`,
    ...(needsEnv.length > 0 ? [`# Also export ${needsEnv.join(', ')} (see ${DEMO_ENV_FILE} beside this file).`] : []),
  ];
  writeFileSync(configFile, `${header.join('\n')}\n${stringify(raw)}`, { mode: 0o600 });
  return { envFile, configFile };
}

/** The lines the demo prints about them: how to point the CLI at the running demo. */
export function demoUsageLines(files: DemoFiles, cwd: string): string[] {
  const show = (p: string) => {
    const rel = relative(cwd, p);
    return rel.startsWith('..') ? p : `./${rel}`;
  };
  return [
    'Use the CLI against this demo from another terminal (in this folder):',
    `  . ${shellQuote(show(files.envFile))}                      # once per shell: the demo's settings`,
    `  ${CLI} status             # health: last scan, queues, failures`,
    `  ${CLI} plan               # every credential and what the worker would do`,
    `  ${CLI} history            # the audit log`,
    `  ${CLI} secret list        # what the store holds (names, never values)`,
    `or without sourcing: ${CLI} status --config ${shellQuote(show(files.configFile))}`,
  ];
}
