import { systemClock } from '../clock.js';
import { toCredentialJson } from '../secrets/credential-json.js';
import { versionWithStage } from '../secrets/stages.js';
import type { ManagedSecret, Stage } from '../secrets/types.js';
import { loadCommandConfig, parseFlagsAndPositionals, usageError } from './args.js';
import { openStoreReadOnly } from './offline.js';
import { renderTable } from './render-table.js';
import type { Command } from './types.js';

const FIELDS = ['json', 'access-token', 'private-key', 'public-key', 'cred-id', 'credential-id', 'expires-at'] as const;
type Field = (typeof FIELDS)[number];

const USAGE = `dfns-rotator secret list [--config FILE]
dfns-rotator secret get NAME [--field ${FIELDS.join('|')}] [--stage current|previous|pending] [--show] [--config FILE]
  How a consuming service reads the credential the worker keeps fresh. \`get\` writes the secret to
  stdout for a pipe or a file (e.g. into your own secret manager, or a file your service reads); it
  refuses to print to a terminal unless --show is given. \`list\` shows names and expiry, never values.`;

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
      stage: { type: 'string' },
      show: { type: 'boolean' },
    });
    const [action, name, ...rest] = positionals;
    if (rest.length > 0 || (action !== 'list' && action !== 'get') || (action === 'get' && !name)) {
      throw usageError('secret', USAGE, ['expected `secret list` or `secret get NAME`']);
    }
    const field = (flags.field ?? 'json') as Field;
    if (!FIELDS.includes(field)) throw usageError('secret', USAGE, [`--field: unknown field "${flags.field}"`]);
    const stage = (flags.stage ?? 'current') as Stage;
    if (!['current', 'previous', 'pending'].includes(stage)) throw usageError('secret', USAGE, [`--stage: unknown stage "${flags.stage}"`]);

    const config = loadCommandConfig(ctx, flags.config);
    const { store, note } = openStoreReadOnly(config, ctx.logger, ctx.clock ?? systemClock);
    if (note) ctx.err(`note: ${note}`);
    try {
      if (action === 'list') {
        const rows = (await store.list()).map((s) => {
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
        if (rows.length === 0) ctx.out('no managed secrets (adopt one with `dfns-rotator adopt`, or let the worker rotate one)');
        else for (const line of renderTable(['SECRET', 'KIND', 'DFNS ID', 'EXPIRES', 'VERSIONS'], rows)) ctx.out(line);
        return 0;
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
      ctx.out(pick(version.value, field));
      return 0;
    } finally {
      await store.close?.();
    }
  },
};
