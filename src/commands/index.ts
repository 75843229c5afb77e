import { adoptCommand } from './adopt.js';
import { demoCommand } from './demo.js';
import { historyCommand } from './history.js';
import { initCommand } from './init.js';
import { planCommand } from './plan.js';
import { retireCommand } from './retire.js';
import { rotateCommand } from './rotate.js';
import { secretCommand } from './secret.js';
import { simulatorCommand } from './simulator.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { storeCommand } from './store.js';
import type { Command } from './types.js';

export const COMMANDS: readonly Command[] = [demoCommand, startCommand, simulatorCommand, initCommand, planCommand, adoptCommand, rotateCommand, retireCommand, historyCommand, statusCommand, secretCommand, storeCommand];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `dfns-rotator: keeps Dfns service accounts and personal access tokens from expiring, and rotates them safely.\n\nusage: npx dfns-rotator <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`npx dfns-rotator <command> --help\` for a command's options.\n`;
}
