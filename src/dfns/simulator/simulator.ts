import type { AddressInfo } from 'node:net';
import { FaultInjector } from './faults.js';
import { DEFAULT_KNOBS, mergeKnobs, validateKnobsPatch } from './knobs.js';
import { OrgRequestWindow } from './rate-limit.js';
import { Router, type SimEnv } from './router.js';
import { ActionLog } from './action-log.js';
import { actionLogRoutes } from './routes-action-logs.js';
import { authRoutes } from './routes-auth.js';
import { credentialRoutes } from './routes-credentials.js';
import { patRoutes } from './routes-pats.js';
import { serviceAccountRoutes } from './routes-service-accounts.js';
import { parseSeed } from './seed.js';
import { buildSeededState } from './seed-apply.js';
import { addPat, addServiceAccount } from './records.js';
import { expiryFrom, keyMaterialFrom } from './validation.js';
import { createSimServer } from './server.js';
import { simulatorClock } from './sim-clock.js';
import { StatsRecorder } from './stats.js';
import { JwtIssuer } from './tokens.js';
import { ChallengeBook } from './user-actions.js';
import type { RunningSimulator, SimKnobs, SimulatorOptions } from './types.js';

const ROUTER = new Router([...authRoutes, ...serviceAccountRoutes, ...patRoutes, ...credentialRoutes, ...actionLogRoutes]);

/**
 * Starts a local Dfns auth API on 127.0.0.1 (default) and a free port (default). The seed and
 * knobs are validated first: a bad one throws ConfigError naming the path, before listening.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = simulatorClock(options.clock);
  const seed = parseSeed(options.seed ?? {});
  // The seed's knobs first, then the caller's: a test or CLI flag overrides what the file says.
  let knobs: SimKnobs = mergeKnobs(mergeKnobs({ ...DEFAULT_KNOBS }, validateKnobsPatch(seed.knobs ?? {})), validateKnobsPatch(options.knobs ?? {}));
  const jwt = new JwtIssuer();
  const { state, seededTokens } = buildSeededState(seed, { now: clock.now(), defaultDaysValid: knobs.defaultDaysValid, jwt });
  const book = new ChallengeBook(jwt);
  const actionLog = new ActionLog();
  const stats = new StatsRecorder();
  const faults = new FaultInjector(knobs.randomSeed);
  const limiter = new OrgRequestWindow();

  const env: SimEnv = {
    state,
    jwt,
    book,
    actionLog,
    get knobs() {
      return knobs;
    },
    now: () => clock.now(),
    view: () => ({
      includeExternalId: knobs.listIncludesExternalId,
      createAnswerOmitsCredId: knobs.createAnswerOmitsCredId,
      userInfoOmitsName: knobs.userInfoOmitsName,
      tenantIdInsteadOfOrgId: knobs.tenantIdInsteadOfOrgId,
      omitKind: knobs.omitKind,
      publicKey: knobs.listedPublicKey,
    }),
  };
  const arrivals = new Set<Parameters<RunningSimulator['onArrival']>[0]>();
  const server = createSimServer({ env, router: ROUTER, stats, faults, limiter, logger: options.logger, onArrival: (a) => arrivals.forEach((l) => l(a)) });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    orgId: state.orgId,
    clock,
    get knobs() {
      return knobs;
    },
    setKnobs(patch) {
      const valid = validateKnobsPatch(patch);
      knobs = mergeKnobs(knobs, valid);
      if (valid.randomSeed !== undefined) faults.reseed(valid.randomSeed);
    },
    seededTokens,
    actionLog: () => actionLog.all(),
    onArrival(listener) {
      arrivals.add(listener);
      return () => void arrivals.delete(listener);
    },
    addServiceAccount(input) {
      if (state.serviceAccountNames.has(input.name)) throw new Error(`simulator: a service account named ${input.name} exists`);
      const now = clock.now();
      const { user } = addServiceAccount(
        state,
        { name: input.name, assignments: [], isActive: true, dateCreated: now, exp: expiryFrom(now, {}, knobs.defaultDaysValid), ...(input.externalId ? { externalId: input.externalId } : {}) },
        keyMaterialFrom(input.publicKeyPem),
      );
      return user.userId;
    },
    addPat(input) {
      const owner = state.users.get(state.usersByUsername.get(input.owner) ?? '');
      if (!owner) throw new Error(`simulator: no org user ${input.owner}`);
      const now = clock.now();
      return addPat(
        state,
        owner,
        { name: input.name, assignments: [], isActive: true, dateCreated: now, exp: expiryFrom(now, {}, knobs.defaultDaysValid), ...(input.externalId ? { externalId: input.externalId } : {}) },
        keyMaterialFrom(input.publicKeyPem),
      ).tokenId;
    },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of the SDK's agent would hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
