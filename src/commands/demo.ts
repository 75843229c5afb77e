import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { startDaemon, type Daemon } from '../daemon/daemon.js';
import { startSimulator } from '../dfns/simulator/index.js';
import type { RunningSimulator } from '../dfns/simulator/types.js';
import { consoleLines } from '../demo/console-log.js';
import { buildDemoWorld, DEMO_CREDENTIALS, DEMO_OPERATOR, DEMO_OPERATOR_CRED_ID } from '../demo/world.js';
import { describeError } from '../errors.js';
import { adoptCredential } from '../jobs/adopt.js';
import { createLogger } from '../logger.js';
import { startPrivateRedis, type PrivateRedis } from '../redis/private-redis.js';
import { describeStore } from '../secrets/index.js';
import { generateStoreKey, storeKeyToText } from '../secrets/store-key.js';
import { parseFlags } from './args.js';
import { buildIdentities, openStore } from './offline.js';
import type { Command } from './types.js';
import { untilAborted } from './types.js';

const USAGE = `dfns-rotator demo [--dir DIR] [--port N]
  The main job on local defaults, with no Dfns account: a local Dfns simulator seeded with
  credentials near expiry, a private redis-server (unless REDIS_URL is set), an encrypted file
  store in DIR (default ./.demo, recreated each run), notifications in this terminal (or on Slack
  when SLACK_WEBHOOK_URL is set), and the daemon with its dashboard on 127.0.0.1:PORT (default 8730).
  Rotations start within seconds. Ctrl-C stops everything.`;

/** Demo pace: a scan every minute, old credentials deactivated 2 minutes after promotion, archived 2 minutes later. */
const DEMO_ENV = {
  DFNS_ROTATOR_SCHEDULE: '* * * * *',
  DFNS_ROTATOR_OVERLAP_HOURS: String(2 / 60),
  DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: String(2 / 60),
  DFNS_ROTATOR_REDIS_PREFIX: '{dfns-rotator-demo}',
};

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('demo', USAGE, ctx.argv, { dir: { type: 'string' }, port: { type: 'string' } });
    const dir = resolve(ctx.cwd, flags.dir ?? '.demo');
    const port = flags.port ?? ctx.env.DFNS_ROTATOR_PORT ?? '8730';
    const say = ctx.out;
    const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'info', destination: consoleLines(say) });

    // Demo data only: recreated on every run, never a real store.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });

    let redis: PrivateRedis | null = null;
    let sim: RunningSimulator | null = null;
    let daemon: Daemon | null = null;
    try {
      let redisUrl = ctx.env.REDIS_URL;
      if (!redisUrl) {
        say('starting a private redis-server for the demo…');
        try {
          redis = await startPrivateRedis();
        } catch (err) {
          ctx.err(`the demo needs Redis: ${describeError(err)}`);
          ctx.err('install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL=redis://host:6379');
          return 1;
        }
        redisUrl = redis.url;
      }

      const world = await buildDemoWorld();
      sim = await startSimulator({ seed: world.seed, clock: systemClock, logger: logger.child({ component: 'simulator' }, { level: 'warn' }) });
      say(`local Dfns simulator at ${sim.url} (org ${sim.orgId})`);

      const operatorKeyFile = join(dir, 'operator.pem');
      writeFileSync(operatorKeyFile, world.operatorKey.privateKeyPem, { mode: 0o600 });
      const dashboardToken = randomBytes(24).toString('base64url');
      const env = {
        ...DEMO_ENV,
        DFNS_BASE_URL: sim.url,
        DFNS_ORG_ID: sim.orgId,
        DFNS_OPERATOR_USERNAME: DEMO_OPERATOR,
        DFNS_OPERATOR_CRED_ID: DEMO_OPERATOR_CRED_ID,
        DFNS_OPERATOR_PRIVATE_KEY_FILE: operatorKeyFile,
        DFNS_ROTATOR_STORE_DIR: join(dir, 'secrets'),
        DFNS_ROTATOR_STORE_KEY: storeKeyToText(generateStoreKey()),
        DFNS_ROTATOR_DASHBOARD_TOKEN: dashboardToken,
        DFNS_ROTATOR_PORT: port,
        REDIS_URL: redisUrl,
        ...(ctx.env.SLACK_WEBHOOK_URL ? { SLACK_WEBHOOK_URL: ctx.env.SLACK_WEBHOOK_URL } : {}),
        ...(ctx.env.DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST ? { DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST: ctx.env.DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST } : {}),
        ...(ctx.env.LOG_LEVEL ? { LOG_LEVEL: ctx.env.LOG_LEVEL } : {}),
      };
      const config = loadConfig({ env, readFile: (p) => (p === operatorKeyFile ? world.operatorKey.privateKeyPem : ''), cwd: dir, needs: { server: true } });

      // The held credentials become managed: their tokens and keys go into the encrypted store.
      const store = openStore(config, logger, systemClock, { createDir: true });
      const identities = buildIdentities({ config, store, clock: systemClock, logger, progress: () => {} });
      const operator = (await identities.operator())!;
      const sas = await operator.listServiceAccounts();
      const pats = await operator.listPersonalAccessTokens();
      for (const c of DEMO_CREDENTIALS.filter((c) => c.held)) {
        const held = world.keys.get(c.name)!;
        const id = c.kind === 'pat' ? pats.find((p) => p.name === c.name)!.tokenId : sas.find((s) => s.name === c.name)!.id;
        await adoptCredential(
          { store, identities, config, clock: systemClock },
          { secretName: `demo/${c.name}`, kind: c.kind, credentialId: id, accessToken: sim.seededTokens.get(c.name)!, privateKeyPem: held.key.privateKeyPem, credId: held.credId },
        );
      }
      await store.close?.();

      say('');
      say('The demo org:');
      for (const c of DEMO_CREDENTIALS) say(`  ${c.name.padEnd(15)} ${c.kind === 'pat' ? 'PAT            ' : 'service account'}  ${c.story}`);
      say('');

      daemon = await startDaemon({ config, logger, shutdownTimeoutMs: 10_000 });
      const url = daemon.server!.url;
      say('');
      say(`dashboard  ${url}/dashboard   (log in with the token below)`);
      say(`inventory  ${url}/inventory`);
      say(`metrics    ${url}/metrics     (Authorization: Bearer <token>)`);
      say(`token      ${dashboardToken}`);
      say(`store      ${describeStore(config.store)} (demo data, recreated on every run)`);
      say('');
      say('A scan runs now and every minute; payments-api and ci-deployer are rotated right away, and');
      say('their old credentials are deactivated two minutes later. Press Ctrl-C to stop.');
      say('');
      await untilAborted(ctx.signal);
      return 0;
    } finally {
      await daemon?.stop('demo stopped').catch(() => undefined);
      await sim?.close().catch(() => undefined);
      await redis?.stop().catch(() => undefined);
    }
  },
};
