import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/index.js';
import { startDaemon, type Daemon } from '../daemon/daemon.js';
import { startSimulator } from '../dfns/simulator/index.js';
import type { RunningSimulator } from '../dfns/simulator/types.js';
import { consoleLines } from '../demo/console-log.js';
import { demoUsageLines, writeDemoEnvironment } from '../demo/demo-env.js';
import { buildDemoWorld, demoExpiry, DEMO_CREDENTIALS, DEMO_OPERATOR, DEMO_OPERATOR_CRED_ID } from '../demo/world.js';
import { describeError } from '../errors.js';
import { adoptCredential } from '../jobs/identities/adopt.js';
import { createLogger } from '../logger.js';
import { formatDuration } from '../notify/format-time.js';
import { startPrivateRedis, type PrivateRedis } from '../redis/private-redis.js';
import { describeStore } from '../secrets/index.js';
import { DEMO_STORE_KINDS, DEMO_STORES, type DemoStore, type DemoStoreKind } from '../demo/demo-stores.js';
import { parseFlags, usageError } from './args.js';
import { buildIdentities } from '../parts/dfns.js';
import { openStore } from '../parts/store.js';
import type { Command } from './types.js';
import { untilAborted } from './types.js';

const USAGE = `npx dfns-rotator demo [--dir DIR] [--port N] [--store ${DEMO_STORE_KINDS.join('|')}]
  The main job on local defaults, with no Dfns account: a local Dfns simulator seeded with
  credentials near expiry, a private redis-server (unless REDIS_URL is set), an encrypted file
  store in DIR (default ./.demo, recreated each run) or, with --store vault or --store
  aws-secrets-manager, a local Vault or AWS Secrets Manager, notifications in this terminal (or on
  Slack when SLACK_WEBHOOK_URL is set), and the daemon with its dashboard on 127.0.0.1:PORT (default
  8730; 0 picks a free port). Rotations start within seconds. Ctrl-C stops everything.
  It writes DIR/env and DIR/config.yaml: in another terminal, \`. ./.demo/env\` and then
  \`npx dfns-rotator status\` (or any command with \`--config .demo/config.yaml\`) reach the demo.`;

/**
 * Demo pace: a scan every minute; old credentials deactivated two and a half minutes after
 * promotion and archived as long after. The half minute keeps "in 2 minutes" what the banner
 * and the rotation message both say (durations round down, and the message is written a moment
 * after promotion). The usage grace is shorter than the overlap, so the demo's retirements read
 * the audit log of signed actions.
 */
const DEMO_PACE = { schedule: '* * * * *', overlapHours: 2.5 / 60, usageGraceMinutes: 0.5, archiveAfterHours: 2.5 / 60, redisPrefix: '{dfns-rotator-demo}' };

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  async run(ctx) {
    const flags = parseFlags('demo', USAGE, ctx.argv, { dir: { type: 'string' }, port: { type: 'string' }, store: { type: 'string' } });
    const storeKind = (flags.store ?? 'file') as DemoStoreKind;
    if (!DEMO_STORE_KINDS.includes(storeKind)) throw usageError('demo', USAGE, [`--store: unknown store "${flags.store}" (expected ${DEMO_STORE_KINDS.join(', ')})`]);
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
    let demoStore: DemoStore | null = null;
    try {
      let redisUrl = ctx.env.REDIS_URL;
      if (!redisUrl) {
        say('starting a private redis-server for the demo…');
        try {
          redis = await startPrivateRedis('redis-server', { ownProcessGroup: true });
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

      demoStore = await DEMO_STORES[storeKind](dir);

      const operatorKeyFile = join(dir, 'operator.pem');
      writeFileSync(operatorKeyFile, world.operatorKey.privateKeyPem, { mode: 0o600 });
      const dashboardTokenFile = join(dir, 'dashboard.token');
      const dashboardToken = randomBytes(24).toString('base64url');
      writeFileSync(dashboardTokenFile, `${dashboardToken}\n`, { mode: 0o600 });
      // The demo's settings, all secrets as files: the same environment goes to DIR/env for a second terminal.
      const demoEnv: Record<string, string> = {
        DFNS_ROTATOR_SCHEDULE: DEMO_PACE.schedule,
        DFNS_ROTATOR_OVERLAP_HOURS: String(DEMO_PACE.overlapHours),
        DFNS_ROTATOR_USAGE_GRACE_MINUTES: String(DEMO_PACE.usageGraceMinutes),
        DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: String(DEMO_PACE.archiveAfterHours),
        DFNS_ROTATOR_REDIS_PREFIX: DEMO_PACE.redisPrefix,
        DFNS_BASE_URL: sim.url,
        DFNS_ORG_ID: sim.orgId,
        DFNS_OPERATOR_USERNAME: DEMO_OPERATOR,
        DFNS_OPERATOR_CRED_ID: DEMO_OPERATOR_CRED_ID,
        DFNS_OPERATOR_PRIVATE_KEY_FILE: operatorKeyFile,
        ...demoStore.env,
        DFNS_ROTATOR_DASHBOARD_TOKEN_FILE: dashboardTokenFile,
        DFNS_ROTATOR_PORT: port,
        REDIS_URL: redisUrl,
      };
      const env = {
        ...demoEnv,
        ...(ctx.env.SLACK_WEBHOOK_URL ? { SLACK_WEBHOOK_URL: ctx.env.SLACK_WEBHOOK_URL } : {}),
        ...(ctx.env.DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST ? { DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST: ctx.env.DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST } : {}),
        ...(ctx.env.LOG_LEVEL ? { LOG_LEVEL: ctx.env.LOG_LEVEL } : {}),
      };
      const config = loadConfig({ env, readFile: (p) => readFileSync(p, 'utf8'), cwd: dir, needs: { server: true } });

      // The held credentials become managed: their tokens and keys go into the encrypted store.
      const storeDeps = demoStore.deps ? { deps: demoStore.deps } : {};
      const store = openStore(config, logger, systemClock, { createDir: true, ...storeDeps });
      const identities = buildIdentities({ config, store, clock: systemClock, logger });
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
      const now = systemClock.now();
      for (const c of DEMO_CREDENTIALS) {
        say(`  ${c.name.padEnd(15)} ${c.kind === 'pat' ? 'PAT            ' : 'service account'}  ${demoExpiry(c, now, config.assumedLifetime.defaultDays)}; ${c.story}`);
      }
      say('');

      const daemonStore = demoStore.deps ? openStore(config, logger, systemClock, storeDeps) : undefined;
      daemon = await startDaemon({ config, logger, shutdownTimeoutMs: 10_000, ...(daemonStore ? { runtime: { store: daemonStore } } : {}) });
      const url = daemon.server!.url;
      // The port actually bound (--port 0 picks one): the files must point at the running demo.
      const files = writeDemoEnvironment(dir, { ...demoEnv, DFNS_ROTATOR_PORT: new URL(url).port }, demoStore.cliEnv ?? {});
      const overlap = formatDuration(DEMO_PACE.overlapHours * 3_600_000);
      say('');
      say(`dashboard  ${url}/dashboard   (log in with the token below)`);
      say(`inventory  ${url}/inventory`);
      say(`metrics    ${url}/metrics     (Authorization: Bearer <token>)`);
      say(`token      ${dashboardToken}   (also in ${dashboardTokenFile})`);
      say(`store      ${describeStore(config.store)} (demo data, recreated on every run)`);
      say('');
      for (const line of demoUsageLines(files, ctx.cwd)) say(line);
      say('');
      say('A consuming service reads the current credential of payments-api with:');
      for (const line of demoStore.consumerRead('demo/payments-api')) say(`  ${line}`);
      say('');
      say('A scan runs now and every minute; payments-api and ci-deployer are rotated right away, and');
      say(`their old credentials are deactivated ${overlap} after each rotation. Press Ctrl-C to stop.`);
      say('');
      await untilAborted(ctx.signal);
      return 0;
    } finally {
      await daemon?.stop('demo stopped').catch(() => undefined);
      await sim?.close().catch(() => undefined);
      await demoStore?.close().catch(() => undefined);
      await redis?.stop().catch(() => undefined);
    }
  },
};
