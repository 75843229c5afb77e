import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { CLI, shellQuote } from '../cli-name.js';

/**
 * What the demo leaves for a second terminal: the same settings the demo's daemon runs with, as
 * `DIR/env` (shell `export` lines, sourced with `. DIR/env`) and `DIR/config.yaml` (for
 * `--config`). Secrets are files beside them (mode 0600) and referenced, never inlined, so the
 * env file prints nothing sensitive when someone `cat`s it.
 */
export interface DemoSettings {
  dir: string;
  baseUrl: string;
  orgId: string;
  operatorUsername: string;
  operatorCredId: string;
  operatorKeyFile: string;
  storeDir: string;
  storeKeyFile: string;
  dashboardTokenFile: string;
  redisUrl: string;
  redisPrefix: string;
  schedule: string;
  port: number;
  overlapHours: number;
  archiveAfterHours: number;
}

export const DEMO_ENV_FILE = 'env';
export const DEMO_CONFIG_FILE = 'config.yaml';

export function demoEnvVars(s: DemoSettings): Record<string, string> {
  return {
    DFNS_BASE_URL: s.baseUrl,
    DFNS_ORG_ID: s.orgId,
    DFNS_OPERATOR_USERNAME: s.operatorUsername,
    DFNS_OPERATOR_CRED_ID: s.operatorCredId,
    DFNS_OPERATOR_PRIVATE_KEY_FILE: s.operatorKeyFile,
    DFNS_ROTATOR_STORE_DIR: s.storeDir,
    DFNS_ROTATOR_STORE_KEY_FILE: s.storeKeyFile,
    DFNS_ROTATOR_DASHBOARD_TOKEN_FILE: s.dashboardTokenFile,
    REDIS_URL: s.redisUrl,
    DFNS_ROTATOR_REDIS_PREFIX: s.redisPrefix,
    DFNS_ROTATOR_SCHEDULE: s.schedule,
    DFNS_ROTATOR_PORT: String(s.port),
    DFNS_ROTATOR_OVERLAP_HOURS: String(s.overlapHours),
    DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: String(s.archiveAfterHours),
  };
}

/** Writes both files (mode 0600) and returns their paths. */
export function writeDemoEnvironment(s: DemoSettings): { envFile: string; configFile: string } {
  const envFile = join(s.dir, DEMO_ENV_FILE);
  const configFile = join(s.dir, DEMO_CONFIG_FILE);
  const lines = [
    `# The running demo's settings (written by \`${CLI} demo\`; valid while it runs, recreated by each run).`,
    `# In another terminal:  . ${shellQuote(envFile)}   then   ${CLI} status`,
    ...Object.entries(demoEnvVars(s)).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '',
  ];
  writeFileSync(envFile, lines.join('\n'), { mode: 0o600 });
  const config = {
    dfns: { baseUrl: s.baseUrl, orgId: s.orgId },
    operator: { username: s.operatorUsername, credId: s.operatorCredId, privateKey: { file: s.operatorKeyFile } },
    store: { dir: s.storeDir, key: { file: s.storeKeyFile } },
    redis: { url: s.redisUrl, prefix: s.redisPrefix },
    schedule: { scan: s.schedule },
    rotation: { overlapHours: s.overlapHours, archiveAfterHours: s.archiveAfterHours },
    server: { port: s.port, auth: { token: { file: s.dashboardTokenFile } } },
  };
  writeFileSync(configFile, `# The running demo's settings, for \`${CLI} <command> --config ${shellQuote(configFile)}\`.\n${stringify(config)}`, { mode: 0o600 });
  return { envFile, configFile };
}

/** The lines the demo prints about them: how to point the CLI at the running demo. */
export function demoUsageLines(files: { envFile: string; configFile: string }, cwd: string): string[] {
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
