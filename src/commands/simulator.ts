import { runSimulatorCli, SIMULATOR_USAGE } from '../dfns/simulator/index.js';
import { AWS_SERVER_USAGE, runAwsServerCli } from '../secrets/aws-server/cli.js';
import { runVaultServerCli, VAULT_SERVER_USAGE } from '../secrets/vault-server/cli.js';
import type { Command, CommandContext } from './types.js';
import { untilAborted } from './types.js';

/**
 * `dfns-rotator simulator` runs the Dfns simulator; `dfns-rotator simulator <backend>` runs the
 * local server of a secret-store backend. One entry per backend.
 */
const BACKENDS: Record<string, { label: string; usage: string; run(argv: string[], ctx: CommandContext): Promise<{ close(): Promise<void> }> }> = {
  vault: { label: 'Vault', usage: VAULT_SERVER_USAGE, run: (argv, ctx) => runVaultServerCli(argv, { out: ctx.out }) },
  'aws-secrets-manager': { label: 'AWS Secrets Manager simulator', usage: AWS_SERVER_USAGE, run: (argv, ctx) => runAwsServerCli(argv, { out: ctx.out, logger: ctx.logger }) },
};

export const simulatorCommand: Command = {
  name: 'simulator',
  usage: [SIMULATOR_USAGE, ...Object.values(BACKENDS).map((b) => b.usage)].map((u) => u.replace(/^usage: /, '')).join('\n       '),
  async run(ctx) {
    const backend = ctx.argv[0] === undefined ? undefined : BACKENDS[ctx.argv[0]];
    const label = backend?.label ?? 'simulator';
    const server = backend ? await backend.run(ctx.argv.slice(1), ctx) : await runSimulatorCli(ctx.argv, { out: ctx.out, logger: ctx.logger });
    ctx.out('Press Ctrl-C to stop.');
    await untilAborted(ctx.signal);
    await server.close();
    ctx.out(`${label} stopped`);
    return 0;
  },
};
