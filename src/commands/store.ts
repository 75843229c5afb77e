import { readFileSync } from 'node:fs';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/index.js';
import { STORE_KINDS } from '../config/schema.js';
import { describeStore } from '../secrets/index.js';
import { copySecrets, type CopyAction } from '../secrets/copy-store.js';
import { parseFlagsAndPositionals, usageError } from './args.js';
import { openStore, openStoreReadOnly } from '../parts/store.js';
import { renderTable } from './render-table.js';
import type { Command } from './types.js';

const USAGE = `npx dfns-rotator store copy [--from-config FILE] [--from-store KIND] [--to-config FILE] [--to-store KIND] [--secret NAME]... [--replace] [--dry-run] [--json]
  Copies every managed credential, with all its versions and stage labels (pending, current,
  previous), from the store of one config to the store of another: e.g. from the file store to
  Vault. A secret that exists in the target is left alone unless --replace is given. Stop the
  daemons first and start them on the target config afterwards. Environment variables apply to
  both sides; --from-store/--to-store (file, vault, aws-secrets-manager) choose each side's kind
  over DFNS_ROTATOR_STORE and the files, so one environment can hold both stores' settings.`;


const ACTIONS: readonly CopyAction[] = ['copied', 'replaced', 'unchanged', 'skipped', 'failed'];

export const storeCommand: Command = {
  name: 'store',
  usage: USAGE,
  async run(ctx) {
    const { flags, positionals } = parseFlagsAndPositionals('store', USAGE, ctx.argv, {
      'from-config': { type: 'string' },
      'to-config': { type: 'string' },
      'from-store': { type: 'string' },
      'to-store': { type: 'string' },
      secret: { type: 'string', multiple: true },
      replace: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1 || positionals[0] !== 'copy') throw usageError('store', USAGE, ['expected `store copy`']);
    if (!flags['to-config'] && !flags['to-store']) throw usageError('store', USAGE, ['--to-config or --to-store: required (where the credentials go)']);
    for (const flag of ['from-store', 'to-store'] as const) {
      const kind = flags[flag];
      if (kind !== undefined && !(STORE_KINDS as readonly string[]).includes(kind)) throw usageError('store', USAGE, [`--${flag}: unknown store kind "${kind}" (expected ${STORE_KINDS.join(', ')})`]);
    }
    const load = (path: string | undefined, kind: string | undefined) =>
      loadConfig({ env: ctx.env, configPath: path ?? null, readFile: (p) => readFileSync(p, 'utf8'), cwd: ctx.cwd, ...(kind ? { flags: { store: { kind: kind as (typeof STORE_KINDS)[number] } } } : {}) });
    const from = load(flags['from-config'], flags['from-store']);
    const to = load(flags['to-config'], flags['to-store']);
    const fromText = describeStore(from.store);
    const toText = describeStore(to.store);
    if (fromText === toText) throw usageError('store', USAGE, [`the two configs name the same store (${fromText})`]);

    const clock = ctx.clock ?? systemClock;
    const source = openStoreReadOnly(from, ctx.logger, clock);
    if (source.note) ctx.err(`note: ${source.note}`);
    const target = openStore(to, ctx.logger, clock, { createDir: true });
    try {
      const dryRun = flags['dry-run'] ?? false;
      const outcomes = await copySecrets(source.store, target, { replace: flags.replace ?? false, dryRun, ...(flags.secret ? { names: flags.secret } : {}) });
      const counts = Object.fromEntries(ACTIONS.map((a) => [a, outcomes.filter((o) => o.action === a).length])) as Record<CopyAction, number>;
      const ok = counts.skipped === 0 && counts.failed === 0;
      if (flags.json) {
        ctx.out(JSON.stringify({ from: fromText, to: toText, dryRun, secrets: outcomes, counts }, null, 2));
        return ok ? 0 : 1;
      }
      ctx.out(`from: ${fromText}`);
      ctx.out(`to:   ${toText}${dryRun ? ' (dry run: nothing written)' : ''}`);
      if (outcomes.length === 0) ctx.out('no managed secrets in the source store');
      else {
        const rows = outcomes.map((o) => [o.action, o.name, o.versions.map((v) => `v${v.versionId}${v.stages.length ? `:${v.stages.join('+')}` : ''}`).join(' '), o.reason ?? '']);
        for (const line of renderTable(['ACTION', 'SECRET', 'VERSIONS', 'NOTE'], rows)) ctx.out(line);
      }
      ctx.out(ACTIONS.map((a) => `${counts[a]} ${a}`).join(', '));
      const inFlight = outcomes.filter((o) => o.pending && (o.action === 'copied' || o.action === 'replaced'));
      if (inFlight.length > 0) ctx.err(`note: ${inFlight.map((o) => o.name).join(', ')} had a rotation in flight (a pending version, copied too): let only daemons on the target config resume it`);
      if (counts.skipped > 0) ctx.err('some secrets exist in the target and were left alone: pass --replace to overwrite them');
      return ok ? 0 : 1;
    } finally {
      await source.store.close?.();
      await target.close?.();
    }
  },
};
