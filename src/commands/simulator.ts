import { runSimulatorCli } from '../dfns/simulator/index.js';
import { runVaultServerCli } from '../secrets/vault-server/cli.js';
import type { Command, CommandContext } from './types.js';
import { untilAborted } from './types.js';

/**
 * `dfns-rotator simulator` runs the Dfns simulator; `dfns-rotator simulator <backend>` runs the
 * local server of a secret-store backend. One entry per backend.
 */
const BACKENDS: Record<string, { label: string; run(argv: string[], ctx: CommandContext): Promise<{ close(): Promise<void> }> }> = {
  vault: { label: 'Vault', run: (argv, ctx) => runVaultServerCli(argv, { out: ctx.out }) },
};

export const simulatorCommand: Command = {
  name: 'simulator',
  summary: 'run a local Dfns API, or a local secret store (`simulator vault`), for tests, demos, benchmarks, until interrupted',
  usage:
    'dfns-rotator simulator [--port N] [--host 127.0.0.1] [--seed FILE] [--tokens-out FILE] [--latency MS] [--fault-rate 0..1] [--rate-limit N]\n' +
    '       dfns-rotator simulator vault [--port N] [--token T] [--approle ROLE_ID:SECRET_ID] [--latency MS] [--fault-rate 0..1]',
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
