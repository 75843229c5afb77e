import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemClock } from '../clock.js';
import { resolvePolicy } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { AdoptError, adoptCredential } from '../jobs/identities/adopt.js';
import type { CredentialKind } from '../model.js';
import { loadCommandConfig, parseFlags, usageError } from './args.js';
import { buildIdentities } from '../parts/dfns.js';
import { openStore } from '../parts/store.js';
import { relativeTime } from './plan-view.js';
import type { Command, CommandContext } from './types.js';
import { cliCommand } from '../cli-name.js';

const USAGE = `npx dfns-rotator adopt --secret NAME --kind service-account|pat --token-file FILE --key-file FILE
                   [--id us-…|to-…] [--cred-id ID] [--replace] [--config FILE]
  --secret NAME      name of the secret in the store, e.g. payments/api-bot
  --token-file FILE  the credential's access token (- reads it from stdin)
  --key-file FILE    the private key PEM of its Key credential
  --id ID            the service account (us-…) or PAT (to-…) id; read from the token when omitted
  --cred-id ID       the Key credential id; read from Dfns when omitted
  --replace          make it the current version of an existing secret`;

/** Flags that would put a secret into shell history and `ps` output. */
const SECRET_FLAGS = /^--(token|access-token|key|private-key|private-key-pem)(=|$)/;

const KINDS: Record<string, CredentialKind> = { 'service-account': 'service-account', sa: 'service-account', pat: 'pat' };

/**
 * Brings an existing service account or PAT under management: the token and key are checked
 * against Dfns, then stored encrypted as the secret's current version. Prints ids, names and the
 * exact expiry; never the token or key.
 */
export const adoptCommand: Command = {
  name: 'adopt',
  usage: USAGE,
  async run(ctx) {
    const secretFlag = ctx.argv.find((a) => SECRET_FLAGS.test(a));
    if (secretFlag) {
      throw usageError('adopt', USAGE, [
        `${secretFlag.split('=')[0]}: tokens and keys are never taken as flag values (they would stay in shell history and process listings); use --token-file FILE (or - for stdin) and --key-file FILE`,
      ]);
    }
    const flags = parseFlags('adopt', USAGE, ctx.argv, {
      secret: { type: 'string' },
      kind: { type: 'string' },
      'token-file': { type: 'string' },
      'key-file': { type: 'string' },
      id: { type: 'string' },
      'cred-id': { type: 'string' },
      replace: { type: 'boolean' },
      config: { type: 'string' },
    });
    const problems: string[] = [];
    for (const f of ['secret', 'kind', 'token-file', 'key-file'] as const) if (!flags[f]) problems.push(`--${f}: required`);
    const kind = flags.kind === undefined ? undefined : KINDS[flags.kind];
    if (flags.kind !== undefined && !kind) problems.push(`--kind: "${flags.kind}" is not service-account or pat`);
    if (kind && flags.id) {
      if (kind === 'service-account' && flags.id.startsWith('to-')) problems.push(`--id ${flags.id} is a token id (to-…): use --kind pat, or give the service account's user id (us-…)`);
      if (kind === 'pat' && flags.id.startsWith('us-')) problems.push(`--id ${flags.id} is a user id (us-…): a PAT's id is its token id (to-…)`);
    }
    if (flags['token-file'] === '-' && flags['key-file'] === '-') problems.push('--token-file and --key-file cannot both read stdin');
    if (problems.length > 0) throw usageError('adopt', USAGE, problems);

    const accessToken = (await readInput(ctx, '--token-file', flags['token-file']!)).trim();
    const privateKeyPem = await readInput(ctx, '--key-file', flags['key-file']!);
    const config = loadCommandConfig(ctx, flags.config);
    const clock = ctx.clock ?? systemClock;
    const logger = ctx.logger.child({ command: 'adopt' });
    const store = openStore(config, logger, clock, { createDir: true });
    try {
      const identities = buildIdentities({ config, store, clock, logger, progress: ctx.interactive ? ctx.err : () => {} });
      let adopted;
      try {
        adopted = await adoptCredential(
          { store, identities, config, clock },
          {
            secretName: flags.secret!,
            kind: kind!,
            accessToken,
            privateKeyPem,
            ...(flags.id ? { credentialId: flags.id } : {}),
            ...(flags['cred-id'] ? { credId: flags['cred-id'] } : {}),
            replaceExisting: flags.replace ?? false,
          },
        );
      } catch (err) {
        if (!(err instanceof AdoptError)) throw err;
        ctx.err(`adopt refused: ${err.message}`);
        ctx.err('nothing was written to the store');
        return 1;
      }
      const what = kind === 'pat' ? 'personal access token' : 'service account';
      const strategy = resolvePolicy(config, { kind: kind!, id: adopted.credentialId, name: adopted.name, secretName: adopted.secretName }).strategy;
      ctx.out(`adopted ${what} "${adopted.name}" (${adopted.credentialId}) as secret "${adopted.secretName}", version ${adopted.versionId}`);
      ctx.out(
        adopted.expiresAt === null
          ? 'expires: unknown (the token has no exp claim); the scan reports it as unknown'
          : `expires: ${new Date(adopted.expiresAt).toISOString()} (${relativeTime(adopted.expiresAt - clock.now())}), exact, from the token`,
      );
      ctx.out(`configured strategy: ${strategy}; \`${cliCommand('plan')}\` shows it as managed, and what the worker will do`);
      const files = [flags['token-file'], flags['key-file']].filter((f) => f !== '-');
      if (files.length > 0) ctx.out(`the token and key are now in the encrypted store: delete the plaintext cop${files.length === 1 ? 'y' : 'ies'} (${files.join(', ')})`);
      return 0;
    } finally {
      await store.close?.();
    }
  },
};

async function readInput(ctx: CommandContext, flag: string, path: string): Promise<string> {
  if (path === '-') {
    if (!ctx.stdin) throw new ConfigError([`${flag} -: no standard input to read`], 'adopt arguments');
    if (ctx.interactive) ctx.err(`${flag} -: reading standard input until end of file (Ctrl-D)`);
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  const file = resolve(ctx.cwd, path);
  try {
    if ((statSync(file).mode & 0o077) !== 0) ctx.err(`warning: ${file} is readable by other users; delete it once adopted`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`], 'adopt arguments');
  }
}
