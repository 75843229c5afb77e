import { systemClock } from '../clock.js';
import { isConsumerFormat, renderCredential, type ConsumerFormat } from '../secrets/consumer-formats.js';
import { toCredentialJson } from '../secrets/credential-json.js';
import { versionWithStage } from '../secrets/stages.js';
import type { ManagedSecret, Stage } from '../secrets/types.js';
import { loadCommandConfig, parseFlagsAndPositionals, usageError } from './args.js';
import { openStoreReadOnly } from '../parts/store.js';
import { renderTable } from './render-table.js';
import { runSecretSync } from './secret-sync.js';
import type { Command } from './types.js';
import { cliCommand } from '../cli-name.js';
import { readStoreTolerantly } from '../jobs/effects/store-read.js';

const FIELDS = ['json', 'access-token', 'private-key', 'public-key', 'cred-id', 'credential-id', 'expires-at'] as const;
type Field = (typeof FIELDS)[number];

const USAGE = `npx dfns-rotator secret list [--config FILE]
npx dfns-rotator secret get NAME [--format json|env|dotenv | --field ${FIELDS.join('|')}] [--stage current|previous|pending] [--show] [--config FILE]
npx dfns-rotator secret sync NAME --out FILE [--format json|env|dotenv] [--exec CMD] [--interval S] [--config FILE]
  How a consuming service reads the credential the worker keeps fresh. \`get\` writes the secret to
  stdout for a pipe or a file: the credential JSON (default), \`env\` (export lines for a shell) or
  \`dotenv\` (a .env file), with Dfns' variable names DFNS_API_URL, DFNS_ORG_ID, DFNS_AUTH_TOKEN,
  DFNS_CRED_ID, DFNS_PRIVATE_KEY; it refuses to print to a terminal unless --show is given.
  \`sync\` keeps FILE (mode 0600, written atomically) in step with the current version, re-reading
  the store every S seconds (default 60), and runs CMD (with sh -c) after each change; it stops on
  SIGTERM. \`list\` shows names and expiry, never values.`;

function pick(value: ManagedSecret, field: Field): string {
  switch (field) {
    case 'json':
      return JSON.stringify(toCredentialJson(value));
    case 'access-token':
      return value.accessToken ?? '';
    case 'private-key':
      return value.privateKeyPem.trimEnd();
    case 'public-key':
      return value.publicKeyPem.trimEnd();
    case 'cred-id':
      return value.credId;
    case 'credential-id':
      return value.credentialId ?? '';
    case 'expires-at':
      return value.expiresAt ?? '';
  }
}

export const secretCommand: Command = {
  name: 'secret',
  usage: USAGE,
  async run(ctx) {
    const { flags, positionals } = parseFlagsAndPositionals('secret', USAGE, ctx.argv, {
      config: { type: 'string' },
      field: { type: 'string' },
      format: { type: 'string' },
      stage: { type: 'string' },
      show: { type: 'boolean' },
      out: { type: 'string' },
      exec: { type: 'string' },
      interval: { type: 'string' },
    });
    const [action, name, ...rest] = positionals;
    if (rest.length > 0 || (action !== 'list' && action !== 'get' && action !== 'sync') || (action !== 'list' && !name)) {
      throw usageError('secret', USAGE, ['expected `secret list`, `secret get NAME` or `secret sync NAME --out FILE`']);
    }
    if (flags.format !== undefined && !isConsumerFormat(flags.format)) throw usageError('secret', USAGE, [`--format: "${flags.format}" is not json, env or dotenv`]);
    if (flags.format !== undefined && flags.field !== undefined) throw usageError('secret', USAGE, ['give --format or --field, not both']);
    if (action === 'sync') return runSecretSync(ctx, USAGE, name!, flags);
    const field = (flags.field ?? 'json') as Field;
    if (!FIELDS.includes(field)) throw usageError('secret', USAGE, [`--field: unknown field "${flags.field}"`]);
    const stage = (flags.stage ?? 'current') as Stage;
    if (!['current', 'previous', 'pending'].includes(stage)) throw usageError('secret', USAGE, [`--stage: unknown stage "${flags.stage}"`]);

    const config = loadCommandConfig(ctx, flags.config);
    const { store, note } = openStoreReadOnly(config, ctx.logger, ctx.clock ?? systemClock);
    if (note) ctx.err(`note: ${note}`);
    try {
      if (action === 'list') {
        const { summaries, damaged } = await readStoreTolerantly(store);
        const rows = summaries.map((s) => {
          const current = s.versions.find((v) => v.stages.includes('current'));
          const expires = current?.metadata.expiresAt;
          return [
            s.name,
            current?.kind ?? '-',
            current?.metadata.credentialId ?? '-',
            expires ? new Date(expires).toISOString().replace('.000Z', 'Z') : 'unknown',
            s.versions.map((v) => `v${v.versionId}${v.stages.length ? `:${v.stages.join('+')}` : ''}`).join(' '),
          ];
        });
        if (rows.length === 0 && damaged.length === 0) ctx.out(`no managed secrets (adopt one with \`${cliCommand('adopt')} --help\`, or let the worker rotate one)`);
        else if (rows.length > 0) for (const line of renderTable(['SECRET', 'KIND', 'DFNS ID', 'EXPIRES', 'VERSIONS'], rows)) ctx.out(line);
        // Everything readable is listed; each unreadable secret is named, with its recovery step.
        for (const d of damaged) ctx.err(`unreadable: ${d.secretName} (${d.where}): ${d.problem}; ${d.action}`);
        return damaged.length === 0 ? 0 : 1;
      }
      if (ctx.interactive && !flags.show) {
        ctx.err(`secret get: refusing to print ${name}'s ${field} to a terminal (scrollback, screen sharing); pipe it, redirect it to a file, or pass --show`);
        return 1;
      }
      const record = await store.get(name!);
      const version = record && versionWithStage(record.versions, stage);
      if (!version) {
        ctx.err(`secret get: no ${stage} version of "${name}"`);
        return 1;
      }
      if (flags.format !== undefined) ctx.out(renderCredential(version, flags.format as ConsumerFormat).replace(/\n$/, ''));
      else ctx.out(pick(version.value, field));
      return 0;
    } finally {
      await store.close?.();
    }
  },
};
