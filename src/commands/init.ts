import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULTS } from '../config/index.js';
import { generateKeyPair, isKeyAlgorithm } from '../dfns/index.js';
import { KEY_ALGORITHMS } from '../dfns/port.js';
import { generateStoreKey, storeKeyToText } from '../secrets/index.js';
import { parseFlags, usageError } from './args.js';
import type { Command } from './types.js';
import { cliCommand } from '../cli-name.js';

const USAGE = `npx dfns-rotator init [--dir DIR] [--algorithm ${KEY_ALGORITHMS.join('|')}] [--force]
  --dir DIR          where to write the files (default ./data; created with mode 0700)
  --algorithm ALG    the operator key's algorithm (default ${DEFAULTS.keyAlgorithm})
  --force            overwrite existing files (never a store key that still has secrets)`;

/**
 * What the operator needs in Dfns to rotate (dfns-api.md §3, §4, §9): listing, creating and
 * retiring SAs, creating PATs, assigning the replaced SA's permission, and reading the audit log
 * of signed actions so an old credential is retired only once nothing signs with it.
 */
export const OPERATOR_PERMISSIONS = [
  'Auth:ServiceAccounts:Read',
  'Auth:ServiceAccounts:Create',
  'Auth:ServiceAccounts:Deactivate',
  'Auth:ServiceAccounts:Delete',
  'Auth:Pats:Create',
  'Permissions:Assign',
  'Auth:Logs:Read',
] as const;

export const INIT_FILES = {
  storeKey: 'store.key',
  privateKey: 'operator.pem',
  publicKey: 'operator.pub.pem',
  dashboardToken: 'dashboard.token',
} as const;

/**
 * First-time setup: a store key, the operator's key pair and a dashboard token, each in its own
 * file (secrets 0600) in a 0700 folder, and the steps left to do in Dfns. Prints the public key
 * and file paths, never a secret.
 */
export const initCommand: Command = {
  name: 'init',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('init', USAGE, ctx.argv, {
      dir: { type: 'string' },
      algorithm: { type: 'string' },
      force: { type: 'boolean' },
    });
    const algorithm = flags.algorithm ?? DEFAULTS.keyAlgorithm;
    if (!isKeyAlgorithm(algorithm)) throw usageError('init', USAGE, [`--algorithm: "${algorithm}" is not one of ${KEY_ALGORITHMS.join(', ')}`]);
    const dir = resolve(ctx.cwd, flags.dir ?? './data');
    const force = flags.force ?? false;
    const path = (name: string) => join(dir, name);
    const storeDir = path('secrets');

    const existing = Object.values(INIT_FILES).filter((f) => existsSync(path(f)));
    if (existing.length > 0 && !force) {
      ctx.err(`init: ${existing.map(path).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written`);
      ctx.err('pass --force to overwrite them (a new operator key must be registered in Dfns again)');
      return 1;
    }
    // Replacing the store key would make every stored secret unreadable: tokens Dfns will not show again.
    const secrets = existsSync(storeDir) ? readdirSync(storeDir).filter((f) => !f.startsWith('.')) : [];
    if (existing.includes(INIT_FILES.storeKey) && secrets.length > 0) {
      ctx.err(`init: ${storeDir} holds ${secrets.length} file${secrets.length === 1 ? '' : 's'} encrypted with ${path(INIT_FILES.storeKey)}; replacing that key would make them unreadable`);
      ctx.err('nothing was written; use another --dir, or move the store away first');
      return 1;
    }

    const keyPair = await generateKeyPair(algorithm);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    const mode = statSync(dir).mode & 0o777;
    if (created === undefined && (mode & 0o077) !== 0) ctx.err(`warning: ${dir} is accessible to other users (mode ${mode.toString(8)}); run chmod 700 ${dir}`);

    await writeFile(path(INIT_FILES.storeKey), `${storeKeyToText(generateStoreKey())}\n`, 0o600, force);
    await writeFile(path(INIT_FILES.privateKey), keyPair.privateKeyPem, 0o600, force);
    await writeFile(path(INIT_FILES.publicKey), keyPair.publicKeyPem, 0o644, force);
    await writeFile(path(INIT_FILES.dashboardToken), `${randomBytes(32).toString('base64url')}\n`, 0o600, force);

    const out = ctx.out;
    out(`Wrote into ${dir}:`);
    out(`  ${INIT_FILES.storeKey.padEnd(17)} key of the encrypted secret store (0600). Back it up: without it the stored tokens are lost`);
    out(`  ${INIT_FILES.privateKey.padEnd(17)} the operator's private key, ${algorithm} (0600)`);
    out(`  ${INIT_FILES.publicKey.padEnd(17)} the operator's public key`);
    out(`  ${INIT_FILES.dashboardToken.padEnd(17)} bearer token for the dashboard (0600)`);
    out('');
    out('Next steps:');
    out('1. The operator is the Dfns org user the worker logs in as. In the Dfns dashboard, register this');
    out('   public key as a Key credential of that user:');
    out('');
    for (const line of keyPair.publicKeyPem.trimEnd().split('\n')) out(line);
    out('');
    out('   Dfns shows the new credential\'s id: it goes in DFNS_OPERATOR_CRED_ID.');
    out(`2. Give the operator a permission with ${OPERATOR_PERMISSIONS.join(', ')}.`);
    out('3. Configure the worker (fill in the org id and the operator\'s username):');
    out('');
    out('DFNS_ORG_ID=or-...');
    out('DFNS_OPERATOR_USERNAME=rotator@example.com');
    out('DFNS_OPERATOR_CRED_ID=<credential id from step 1>');
    out(`DFNS_OPERATOR_PRIVATE_KEY_FILE=${path(INIT_FILES.privateKey)}`);
    out(`DFNS_ROTATOR_STORE_DIR=${storeDir}`);
    out(`DFNS_ROTATOR_STORE_KEY_FILE=${path(INIT_FILES.storeKey)}`);
    out(`DFNS_ROTATOR_DASHBOARD_TOKEN_FILE=${path(INIT_FILES.dashboardToken)}`);
    out(`REDIS_URL=${DEFAULTS.redisUrl}`);
    out('');
    out('4. Check it: `' + cliCommand('plan') + '` lists every credential the operator can see (Redis not needed).');
    out('   Bring existing credentials under management with `' + cliCommand('adopt') + '` (see its --help).');
    return 0;
  },
};

/**
 * Writes a file with its mode set before any content goes in. New files are created exclusively
 * (a file that appeared since the check is not overwritten); with `overwrite`, a temp file is
 * renamed over the old one so a crash never leaves a half-written key.
 */
async function writeFile(path: string, text: string, mode: number, overwrite: boolean): Promise<void> {
  const target = overwrite ? `${path}.${randomBytes(6).toString('hex')}.tmp` : path;
  const handle = await open(target, 'wx', mode);
  let done = false;
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.sync();
    done = true;
  } finally {
    await handle.close();
    if (!done) await unlink(target).catch(() => undefined);
  }
  if (overwrite) await rename(target, path);
}
