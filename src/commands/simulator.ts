import { runSimulatorCli } from '../dfns/simulator/index.js';
import type { Command } from './types.js';
import { untilAborted } from './types.js';

export const simulatorCommand: Command = {
  name: 'simulator',
  usage: 'dfns-rotator simulator [--port N] [--host 127.0.0.1] [--seed FILE] [--tokens-out FILE] [--latency MS] [--fault-rate 0..1] [--rate-limit N]',
  async run(ctx) {
    const sim = await runSimulatorCli(ctx.argv, { out: ctx.out, logger: ctx.logger });
    ctx.out('Press Ctrl-C to stop.');
    await untilAborted(ctx.signal);
    await sim.close();
    ctx.out('simulator stopped');
    return 0;
  },
};
