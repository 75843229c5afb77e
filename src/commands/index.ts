import type { Command } from './types.js';

/**
 * The commands, loaded on demand: `--version`, `--help` and each command load only what they
 * use (the daemon's BullMQ, Express and SDK modules take most of a second to import).
 */
export interface CommandEntry {
  name: string;
  /** One line, for `dfns-rotator --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'demo', summary: 'run everything locally against a simulated Dfns: watch credentials get rotated (no account needed)', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'start', summary: 'run the daemon: scheduled scans, rotations, the dashboard and metrics', load: async () => (await import('./start.js')).startCommand },
  { name: 'simulator', summary: 'run a local Dfns API, or a local secret store (`simulator vault`, `simulator aws-secrets-manager`), for tests, demos, benchmarks, until interrupted', load: async () => (await import('./simulator.js')).simulatorCommand },
  { name: 'init', summary: 'create a store key, the operator key pair and a dashboard token, and print the next steps', load: async () => (await import('./init.js')).initCommand },
  { name: 'plan', summary: 'list every credential and what the worker would do about it (dry run; Redis not needed)', load: async () => (await import('./plan.js')).planCommand },
  { name: 'adopt', summary: 'bring an existing service account or PAT (its token and key) under management', load: async () => (await import('./adopt.js')).adoptCommand },
  { name: 'rotate', summary: 'queue a rotation of a managed credential now (--wait to follow it to the end)', load: async () => (await import('./rotate.js')).rotateCommand },
  { name: 'retire', summary: 'decide about an old credential that is still in use: retire it now (--force) or wait longer (--extend)', load: async () => (await import('./retire.js')).retireCommand },
  { name: 'history', summary: 'show the audit log: rotations, their steps, and manual actions', load: async () => (await import('./history.js')).historyCommand },
  { name: 'status', summary: 'show the last scan, queues, rotations in flight and failures; exit 1 when unhealthy (for cron checks)', load: async () => (await import('./status.js')).statusCommand },
  { name: 'secret', summary: 'list managed secrets, or print one for a consuming service (to a pipe, not a terminal)', load: async () => (await import('./secret.js')).secretCommand },
  { name: 'store', summary: 'move managed credentials between secret stores (`store copy`, e.g. file → Vault)', load: async () => (await import('./store.js')).storeCommand },
];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `dfns-rotator: keeps Dfns service accounts and personal access tokens from expiring, and rotates them safely.\n\nusage: npx dfns-rotator <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`npx dfns-rotator <command> --help\` for a command's options.\n`;
}
