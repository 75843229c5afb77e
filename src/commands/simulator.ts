import { runSimulatorCli, SIMULATOR_USAGE } from '../dfns/simulator/index.js';
import type { Command } from './types.js';
import { untilAborted } from './types.js';

export const simulatorCommand: Command = {
  name: 'simulator',
  usage: SIMULATOR_USAGE.replace(/^usage: /, ''),
  async run(ctx) {
    const sim = await runSimulatorCli(ctx.argv, { out: ctx.out, logger: ctx.logger });
    ctx.out('Press Ctrl-C to stop.');
    await untilAborted(ctx.signal);
    await sim.close();
    ctx.out('simulator stopped');
    return 0;
  },
};
