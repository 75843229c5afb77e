/**
 * Full-rotation throughput at the shipped defaults (issue 12, bench b): N service accounts
 * (default 100) found due by a scan and rotated end to end — rotate (plan, stage, create, verify,
 * promote, announce) and retire (deactivate, archive), the overlap and archive delays set to 0 so
 * the retirement follows at once — by one daemon's workers with the shipped defaults: the 200/min
 * budget shared through Redis and the rotate/retire concurrency it implies. The simulator answers
 * with 200 ms latency and enforces Dfns' 1,000/min.
 *
 * Reports full rotations/min against the protocol-minimum ceiling (budget ÷ 12 requests of a full
 * rotation; target at least 80% of it, over the whole run), the requests each rotation really made,
 * and the 429s (target 0). The machine may be shared: rates are noisy.
 *
 * Run: `node --import tsx bench/rotate.bench.ts [--rotations N] [--key-algorithm rsa-3072]
 * [--latency MS]`, or `npm run bench -- rotate`. 100 full rotations take about 6–7 minutes at
 * 200/min: the budget is the bound, by design. ROTATE_BENCH_PROFILE=out.cpuprofile writes a V8
 * CPU profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { RequestEvent } from '../src/dfns/index.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../src/dfns/port.js';
import { createRuntime } from '../src/jobs/runtime.js';
import { silentLogger } from '../src/logger.js';
import { peaks } from './request-peaks.js';
import { startRotateWorld } from './rotate-world.js';

const SIM_LIMIT_PER_MINUTE = 1000;
const REQUESTS_PER_FULL_ROTATION = 12;
const REQUESTS_PER_ROTATE = 6;
const TARGETS = { ceilingShareMin: 0.8, http429Max: 0, failedMax: 0 };

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function startProfile(file: string | undefined): Promise<{ stop(): Promise<void> } | null> {
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

export async function runRotateBench(rotations: number, options: { keyAlgorithm?: KeyAlgorithm; latencyMs: number }) {
  const world = await startRotateWorld({
    serviceAccounts: rotations,
    knobs: { latencyMs: options.latencyMs, rateLimitPerMinute: SIM_LIMIT_PER_MINUTE },
    env: {
      DFNS_ROTATOR_ROTATE_BEFORE_DAYS: '90',
      DFNS_ROTATOR_OVERLAP_HOURS: '0',
      DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0',
      ...(options.keyAlgorithm ? { DFNS_ROTATOR_KEY_ALGORITHM: options.keyAlgorithm } : {}),
    },
  });
  const requests: RequestEvent[] = [];
  const runtime = createRuntime({ config: world.config, logger: silentLogger, onDfnsRequest: (e) => requests.push(e), actor: 'bench' });
  const budget = world.config.dfns.requestsPerMinute;
  try {
    await runtime.redis.ping();
    await world.sim.resetStats();
    const rotated: number[] = [];
    const retired: number[] = [];
    let failedRotations = 0;
    const failureReasons = new Set<string>();
    const profile = await startProfile(process.env.ROTATE_BENCH_PROFILE);
    const cpu = process.cpuUsage();
    const t0 = Date.now();
    let scanned: () => void = () => {};
    const scanDone = new Promise<void>((resolve) => (scanned = resolve));
    const done = new Promise<void>((resolve) => {
      const settle = () => retired.length + failedRotations >= rotations && resolve();
      // The shipped defaults: no concurrency given, so the config's (from the budget) applies.
      const workers = runtime.startWorkers();
      workers.find((w) => w.name === 'scan')!.on('completed', () => scanned());
      const rotate = workers.find((w) => w.name === 'rotate')!;
      const retire = workers.find((w) => w.name === 'retire')!;
      rotate.on('completed', (_job, result: { step: string; error?: string }) => {
        if (result.step === 'retire-scheduled') rotated.push(Date.now() - t0);
        else {
          failedRotations += 1;
          if (result.error) failureReasons.add(result.error.slice(0, 200));
        }
        settle();
      });
      rotate.on('failed', (job, err) => {
        failureReasons.add(err.message.slice(0, 200));
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) failedRotations += 1;
        settle();
      });
      retire.on('completed', (_job, result: { step: string }) => {
        if (result.step === 'done') retired.push(Date.now() - t0);
        settle();
      });
      retire.on('failed', (_job, err) => failureReasons.add(err.message.slice(0, 200)));
    });
    // The scan's own requests (login, listings) apart: the rotations wait until it is done.
    const rotateWorkers = runtime.workers().filter((w) => w.name === 'rotate' || w.name === 'retire');
    await Promise.all(rotateWorkers.map((w) => w.pause(true)));
    await runtime.queues.scan.add('scan', { trigger: 'manual' });
    await scanDone;
    const scanRequests = requests.length;
    for (const w of rotateWorkers) w.resume();
    // Progress on stderr (the JSON result is the only stdout line).
    const progress = setInterval(() => process.stderr.write(`rotate bench: ${Math.round((Date.now() - t0) / 1000)} s, ${rotated.length} rotated, ${retired.length} retired, ${failedRotations} failed, ${requests.length} requests\n`), 30_000);
    await done.finally(() => clearInterval(progress));
    const wallMs = Date.now() - t0;
    const used = process.cpuUsage(cpu);
    await profile?.stop();
    const sim = await world.sim.stats();

    const perMinute = (n: number, ms: number) => (ms > 0 ? (n * 60_000) / ms : 0);
    // From the scan being queued to the last archive: retirements follow their rotations, so
    // completions bunch towards the end and a mid-run rate would flatter or wrong the run.
    const overallPerMinute = perMinute(retired.length, wallMs);
    const fullCeiling = budget / REQUESTS_PER_FULL_ROTATION;
    const byOperation: Record<string, number> = {};
    for (const r of requests) byOperation[r.operation] = (byOperation[r.operation] ?? 0) + 1;
    const http429 = requests.filter((r) => r.status === 429).length;
    const pass = {
      throughput: overallPerMinute / fullCeiling >= TARGETS.ceilingShareMin,
      no429: http429 <= TARGETS.http429Max && sim.rateLimited === 0,
      noFailedRotation: failedRotations <= TARGETS.failedMax && retired.length === rotations,
    };
    return {
      bench: 'rotate' as const,
      rotations,
      keyAlgorithm: world.config.rotation.keyAlgorithm,
      simulator: { latencyMs: options.latencyMs, rateLimitPerMinute: SIM_LIMIT_PER_MINUTE, rateLimited: sim.rateLimited },
      budgetPerMinute: budget,
      concurrency: { rotate: world.config.rotation.concurrency, retire: world.config.rotation.concurrency },
      fullRotations: retired.length,
      failedRotations,
      ...(failureReasons.size > 0 ? { failureReasons: [...failureReasons].slice(0, 5) } : {}),
      wallMs,
      fullRotationsPerMinute: round(overallPerMinute),
      rotatePartsPerMinute: round(perMinute(rotated.length, Math.max(...rotated, 1))),
      ceiling: { fullRotationsPerMinute: round(fullCeiling), rotatePartPerMinute: round(budget / REQUESTS_PER_ROTATE), why: `budget ${budget}/min ÷ ${REQUESTS_PER_FULL_ROTATION} requests per full rotation (${REQUESTS_PER_ROTATE} per rotate part)` },
      ceilingShare: round(overallPerMinute / fullCeiling, 3),
      requests: requests.length,
      requestsPerFullRotation: round((requests.length - scanRequests) / Math.max(1, retired.length), 2),
      requestsByOperation: byOperation,
      http429,
      peakRequestsAnySliding60s: peaks(requests.map((r) => r.startedAt)).slidingMinute,
      cpuMs: Math.round((used.user + used.system) / 1000),
      targets: TARGETS,
      pass,
      ok: Object.values(pass).every(Boolean),
    };
  } finally {
    await Promise.all(Object.values(runtime.queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)));
    await runtime.close();
    await world.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { rotations: { type: 'string' }, 'key-algorithm': { type: 'string' }, latency: { type: 'string' } }, strict: true });
  const rotations = Number(values.rotations ?? process.env.ROTATE_BENCH_ROTATIONS ?? 100);
  if (!Number.isInteger(rotations) || rotations < 1) throw new Error('--rotations: a whole number >= 1');
  const keyAlgorithm = values['key-algorithm'];
  if (keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(keyAlgorithm as KeyAlgorithm)) throw new Error(`--key-algorithm: one of ${KEY_ALGORITHMS.join(', ')}`);
  const latencyMs = Number(values.latency ?? 200);
  console.log(JSON.stringify(await runRotateBench(rotations, { latencyMs, ...(keyAlgorithm ? { keyAlgorithm: keyAlgorithm as KeyAlgorithm } : {}) })));
}
