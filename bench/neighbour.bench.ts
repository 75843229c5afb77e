/**
 * A good neighbour on the org's rate limit (issue 12, bench a): 100 rotations on three daemons
 * sharing one Redis (three processes, the shipped defaults: a 200/min budget shared through
 * Redis, rotate concurrency from the budget), while the customer's own application calls the
 * same simulated org at 300 requests/min. The simulator enforces Dfns' 1,000/min (a fixed
 * one-minute window, 50 ms latency). The scan that finds the 100 credentials due queues the
 * rotations, as in production; the retirements come after the 24 h overlap, outside the run.
 *
 * Reports the neighbour's 429s (target 0), the rotators' most requests in any 60 s (target: at
 * most the configured budget) and rotations/min against the protocol ceiling (budget ÷ 6 for the
 * rotate part; target at least 80% of it). The machine may be shared: rates are noisy.
 *
 * Run: `node --import tsx bench/neighbour.bench.ts [--rotations N] [--daemons D]`, or
 * `npm run bench -- neighbour`. 100 rotations take about 3–4 minutes: the budget is the bound.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startDaemonChild, type DaemonChild } from './daemon-child.js';
import { peaks } from './request-peaks.js';
import { startRotateWorld } from './rotate-world.js';

const SIM_LIMIT_PER_MINUTE = 1000;
const LATENCY_MS = 50;
const NEIGHBOUR_PER_MINUTE = 300;
const REQUESTS_PER_ROTATE = 6;
const NEIGHBOUR = 'payments-app';

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The customer's application: one read every 200 ms with its own token, each 429 counted, never retried. */
function startNeighbour(baseUrl: string, token: string) {
  const outcomes: { at: number; status: number }[] = [];
  let running = true;
  const interval = 60_000 / NEIGHBOUR_PER_MINUTE;
  const done = (async () => {
    let next = performance.now();
    while (running) {
      const at = Date.now();
      const status = await fetch(`${baseUrl}/auth/pats`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      outcomes.push({ at, status });
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
    },
  };
}

export async function runNeighbourBench(rotations: number, daemons: number) {
  const world = await startRotateWorld({
    serviceAccounts: rotations,
    unmanaged: [NEIGHBOUR],
    knobs: { latencyMs: LATENCY_MS, rateLimitPerMinute: SIM_LIMIT_PER_MINUTE },
    // The scan finds every benchmark credential due (65 days left); retire is after the overlap, outside the run.
    env: { DFNS_ROTATOR_ROTATE_BEFORE_DAYS: '90', DFNS_ROTATOR_OVERLAP_HOURS: '24', DFNS_ROTATOR_DASHBOARD_TOKEN: randomBytes(24).toString('hex'), DFNS_ROTATOR_PORT: '0' },
  });
  const budget = world.config.dfns.requestsPerMinute;
  const children: DaemonChild[] = [];
  const connection = new Redis(world.redis.url, { maxRetriesPerRequest: null });
  const scanQueue = new Queue('scan', { connection, prefix: world.config.redis.prefix });
  let settle: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (settle = resolve));
  const finishedRotations = () => children.reduce((n, c) => n + c.finished.filter((f) => f.queue === 'rotate').length, 0);
  const neighbour = startNeighbour(world.config.dfns.baseUrl, world.sim.tokens[NEIGHBOUR]!);
  try {
    for (let i = 0; i < daemons; i++) children.push(await startDaemonChild(world.env, world.dir, () => finishedRotations() >= rotations && settle()));
    await world.sim.resetStats();
    const t0 = Date.now();
    await scanQueue.add('scan', { trigger: 'manual' });
    await allDone;
    const wallMs = Date.now() - t0;
    await neighbour.stop();
    const sim = await world.sim.stats();
    for (const c of children) await c.stop();

    const requests = children.flatMap((c) => c.requests).filter((r) => r.at >= t0);
    const rotated = children.flatMap((c) => c.finished).filter((f) => f.queue === 'rotate');
    const succeeded = rotated.filter((f) => f.step === 'retire-scheduled').length;
    const rotatorPeaks = peaks(requests.map((r) => r.at));
    const neighbourDuring = neighbour.outcomes.filter((o) => o.at >= t0);
    const neighbour429 = neighbour.outcomes.filter((o) => o.status === 429).length;
    const ceiling = budget / REQUESTS_PER_ROTATE;
    const ends = rotated.map((f) => f.at).sort((a, b) => a - b);
    const rotationsPerMinute = (rotated.length * 60_000) / Math.max(1, (ends[ends.length - 1] ?? t0) - t0);
    const byOperation: Record<string, number> = {};
    for (const r of requests) byOperation[r.operation] = (byOperation[r.operation] ?? 0) + 1;
    const targets = { neighbour429: 0, rotatorsPeakPer60sMax: budget, ceilingShareMin: 0.8, failedMax: 0 };
    const pass = {
      neighbour429: neighbour429 <= targets.neighbour429,
      withinBudget: rotatorPeaks.slidingMinute <= targets.rotatorsPeakPer60sMax,
      throughput: rotationsPerMinute / ceiling >= targets.ceilingShareMin,
      noFailedRotation: rotations - succeeded <= targets.failedMax,
    };
    return {
      bench: 'neighbour' as const,
      rotations,
      daemons,
      simulator: { latencyMs: LATENCY_MS, rateLimitPerMinute: SIM_LIMIT_PER_MINUTE, rateLimited: sim.rateLimited },
      budgetPerMinute: budget,
      rotateConcurrencyPerDaemon: world.config.rotation.concurrency,
      neighbour: { perMinute: NEIGHBOUR_PER_MINUTE, requests: neighbourDuring.length, http429: neighbour429, failed: neighbour.outcomes.filter((o) => o.status !== 200 && o.status !== 429).length },
      rotators: { requests: requests.length, http429: requests.filter((r) => r.status === 429).length, peakRequestsAnySliding60s: rotatorPeaks.slidingMinute, peakRequestsFixedMinute: rotatorPeaks.fixedMinute, byOperation },
      succeeded,
      wallMs,
      rotationsPerMinute: round(rotationsPerMinute),
      ceilingRotationsPerMinute: round(ceiling),
      ceilingShare: round(rotationsPerMinute / ceiling, 3),
      targets,
      pass,
      ok: Object.values(pass).every(Boolean),
    };
  } finally {
    await neighbour.stop();
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    await scanQueue.close();
    connection.disconnect();
    await world.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { rotations: { type: 'string' }, daemons: { type: 'string' } }, strict: true });
  const rotations = Number(values.rotations ?? 100);
  const daemons = Number(values.daemons ?? 3);
  if (!Number.isInteger(rotations) || rotations < 1 || !Number.isInteger(daemons) || daemons < 1) throw new Error('--rotations and --daemons: whole numbers >= 1');
  console.log(JSON.stringify(await runNeighbourBench(rotations, daemons)));
}
