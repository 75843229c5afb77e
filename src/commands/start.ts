import { describeRedis } from '../redis/connection.js';
import { startDaemon } from '../daemon/daemon.js';
import { loadCommandConfig, parseFlags } from './args.js';
import type { Command } from './types.js';
import { untilAborted } from './types.js';

const USAGE = `npx dfns-rotator start [--config FILE]
  Runs the daemon: scheduled scans, rotations, retirements and notifications as BullMQ jobs on
  Redis, and the dashboard (bull-board, inventory, /livez, /readyz, /metrics). Stops gracefully on
  SIGTERM/SIGINT: active jobs finish (or, after the shutdown deadline, resume on the next start).`;

export const startCommand: Command = {
  name: 'start',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('start', USAGE, ctx.argv, { config: { type: 'string' } });
    const config = loadCommandConfig(ctx, flags.config, { server: true });
    const logger = ctx.logger.child({}, { level: config.log.level });
    const daemon = await startDaemon({ config, logger });
    ctx.out(`dfns-rotator is running (Redis ${describeRedis(config.redis)}, prefix ${config.redis.prefix})`);
    for (const id of daemon.startup.identities) ctx.out(`  ${id.ok ? 'ok  ' : id.degraded ? 'DEGRADED (retrying in the background)' : 'FAIL'} ${id.identity}: ${id.detail}`);
    ctx.out(`  secrets in the store: ${daemon.startup.secrets}`);
    if (daemon.startup.persistence.ok === false) ctx.out(`  WARNING: ${daemon.startup.persistence.message}`);
    if (!daemon.startup.evictionOk) ctx.out(`  WARNING: Redis maxmemory-policy is ${daemon.startup.evictionPolicy ?? 'unknown'}, not noeviction: jobs can be lost`);
    ctx.out(`  scan schedule: ${config.schedule.scan}${config.schedule.timezone ? ` (${config.schedule.timezone})` : ' (UTC)'}`);
    if (daemon.server) ctx.out(`  dashboard: ${daemon.server.url}/dashboard  inventory: ${daemon.server.url}/inventory  metrics: ${daemon.server.url}/metrics`);
    await untilAborted(ctx.signal);
    await daemon.stop(String((ctx.signal.reason as Error | undefined)?.message ?? 'signal'));
    return 0;
  },
};
