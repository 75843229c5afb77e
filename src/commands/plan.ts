import { systemClock } from '../clock.js';
import { ScanBlindError, dryRunScan } from '../jobs/scan-read.js';
import { loadCommandConfig, parseFlags, usageError } from './args.js';
import { buildIdentities } from '../parts/dfns.js';
import { openStoreReadOnly } from '../parts/store.js';
import { offlineInventoryDeps } from './offline.js';
import { damagedRow, FAIL_ON_VALUES, PLAN_HEADERS, failOnReason, parseFailOn, planRow, summaryLines, type FailOn } from './plan-view.js';
import { renderTable } from './render-table.js';
import type { Command } from './types.js';

const USAGE = `npx dfns-rotator plan [--config FILE] [--json] [--fail-on STATES]
  --json            print {summary, items} as JSON instead of a table
  --fail-on STATES  exit 1 when a credential is in one of these states, comma-separated:
                    ${FAIL_ON_VALUES.join(', ')} ("error": an identity could not list, or a
                    secret in the store could not be read)`;

/**
 * A dry-run scan: lists every credential, joins it with the store and prints how each is
 * classified, most urgent first. Only the scan's reading half (`dryRunScan`): it needs Dfns and
 * the store, not Redis, and nothing is queued.
 */
export const planCommand: Command = {
  name: 'plan',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('plan', USAGE, ctx.argv, {
      config: { type: 'string' },
      json: { type: 'boolean' },
      'fail-on': { type: 'string' },
    });
    let failOn = new Set<FailOn>();
    if (flags['fail-on'] !== undefined) {
      const parsed = parseFailOn(flags['fail-on']);
      if (parsed.unknown.length > 0 || parsed.states.size === 0) {
        throw usageError('plan', USAGE, [`--fail-on: unknown state ${parsed.unknown.map((s) => `"${s}"`).join(', ') || '(none given)'}; use ${FAIL_ON_VALUES.join(', ')}`]);
      }
      failOn = parsed.states;
    }

    const config = loadCommandConfig(ctx, flags.config);
    const clock = ctx.clock ?? systemClock;
    // At the default level the scan's "scan finished" line is noise here (it is for the daemon's
    // log): keep warnings (retries, store permissions). A chosen LOG_LEVEL=debug still applies.
    const logger = ctx.logger.child({ command: 'plan' }, { level: ctx.logger.level === 'info' ? 'warn' : ctx.logger.level });
    const progress = ctx.interactive ? ctx.err : () => {};
    const { store, note } = openStoreReadOnly(config, logger, clock);
    if (note) ctx.err(`note: ${note}`);
    try {
      const identities = buildIdentities({ config, store, clock, logger, progress });
      const deps = offlineInventoryDeps({ config, identities, store, clock, logger });
      let scan;
      try {
        scan = await dryRunScan(deps, { trigger: 'manual', requestedBy: 'plan', dryRun: true });
      } catch (err) {
        if (!(err instanceof ScanBlindError)) throw err;
        ctx.err(`plan failed: ${err.message}`);
        return 1;
      }
      const { summary } = scan;
      const { items, rotations } = scan.read.inventory;
      const planned = new Map(rotations.map((p) => [p.item.key, p]));
      if (flags.json) {
        ctx.out(JSON.stringify({ summary: { ...summary, dryRun: true, rotationsPlanned: planned.size }, items }));
      } else {
        const now = clock.now();
        const rows = [...(summary.damaged ?? []).map(damagedRow), ...items.map((i) => planRow(i, now, planned))];
        for (const line of renderTable(PLAN_HEADERS, rows, { shrink: 'ACTION', ...(ctx.interactive && ctx.columns ? { maxWidth: ctx.columns } : {}) })) ctx.out(line);
        ctx.out('');
        for (const line of summaryLines(summary, planned.size, items.some((i) => i.isOwnIdentity))) ctx.out(line);
      }
      const failure = failOnReason(items, summary, failOn);
      if (failure) {
        ctx.err(`--fail-on ${[...failOn].join(',')}: ${failure}`);
        return 1;
      }
      return 0;
    } finally {
      await store.close?.();
    }
  },
};
