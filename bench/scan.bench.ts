/**
 * Scans at size (issue 12): 1,000, 10,000 and 50,000 credentials against the simulator (50 ms
 * per request unless `--latency` says otherwise, as issue 12 measured), each in a fresh
 * `dfns-rotator start` (the built binary, with the memory settings the Docker image ships:
 * its NODE_OPTIONS and MALLOC_ARENA_MAX, read from the Dockerfile), so its peak RSS (VmHWM) is
 * that size's alone. Per size: the wall and CPU of the first scan (every warning
 * new) and of the later, steady ones (the whole scan: listing, join, classification, queueing,
 * saving the result, updating the gauges); the daemon's peak RSS; the Redis bytes of the stored
 * scan and its largest single value; the size, series and scrape time of /metrics.
 *
 * Targets: peak RSS under 150 MB at 10k and 400 MB at 50k; scan CPU and wall linear in the
 * credentials (per credential at 50k within 1.5× of 10k); /metrics under 1 MB; no stored value
 * over 1 MB. The simulator runs in its own process and Redis is its own server. The machine may
 * be shared: times are noisy, RSS much less so.
 *
 * Run: `node --import tsx bench/scan.bench.ts [--sizes 1000,10000,50000] [--scans 3] [--latency 50]`, or
 * `npm run bench -- scan`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ScanSummary } from '../src/model.js';
import { freePort } from '../src/redis/private-redis.js';
import { startScanWorld } from './scan-fixture.js';

const HELD = { serviceAccounts: 90, pats: 10 };
const TARGETS = {
  peakRssMb: { 1000: 150, 10000: 150, 50000: 400 } as Record<number, number>,
  /** CPU (and wall) per credential at the largest size, as a multiple of the 10k one. */
  linearityMax: 1.5,
  metricsBytesMax: 1024 * 1024,
  largestRedisValueBytesMax: 1024 * 1024,
};

/**
 * The environment the Docker image gives the daemon for its memory (Dockerfile `ENV`): the
 * benchmark runs what ships. `SCAN_BENCH_NODE_FLAGS` adds node flags on top, for experiments.
 */
export function shippedMemoryEnv(dockerfile: string): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  const nodeOptions = /^\s*NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
  const arenas = /^\s*MALLOC_ARENA_MAX=(\d+)/m.exec(dockerfile)?.[1];
  if (nodeOptions === undefined || arenas === undefined) throw new Error('the Dockerfile sets no NODE_OPTIONS="…" or MALLOC_ARENA_MAX=N in its ENV: the benchmark runs the daemon as the image does');
  return { NODE_OPTIONS: nodeOptions, MALLOC_ARENA_MAX: arenas };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** utime + stime of a process, in ms (Linux /proc). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Peak RSS (VmHWM) of a process in MB (Linux /proc). */
function peakRssMbOf(pid: number): number {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

interface DaemonRun {
  scans: { wallMs: number; cpuMs: number; credentials: number }[];
  metrics: { bytes: number; series: number; scrapeMs: number };
  peakRssMb: number;
}

/**
 * `dfns-rotator start` (the built binary) as the daemon, as people run it. Its start-up queues a
 * catch-up scan (cold: login, every warning new); then `scans - 1` more, one at a time, each timed
 * by BullMQ (processedOn → finishedOn) and its CPU read from /proc between them.
 */
async function runDaemon(env: Record<string, string>, prefix: string, redisUrl: string, scans: number): Promise<DaemonRun> {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [...(process.env.SCAN_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), 'dist/cli.js', 'start'], {
    cwd: REPO_ROOT,
    // Scans only: strategy notify queues no rotation; the schedule never fires during the run.
    env: { PATH: process.env.PATH ?? '', ...env, DFNS_ROTATOR_DASHBOARD_TOKEN: token, DFNS_ROTATOR_PORT: String(port), DFNS_ROTATOR_DEFAULT_STRATEGY: 'notify', DFNS_ROTATOR_SCHEDULE: '0 0 1 1 *', LOG_LEVEL: 'warn' },
    // Its log (the log notifier prints every warning) is shown only when it fails.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('scan', { connection, prefix });
  const events = new QueueEvents('scan', { connection: { url: redisUrl }, prefix });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`dfns-rotator start exited with code ${child.exitCode}: ${stderr.slice(-2000)}`);
      const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 600) throw new Error('the daemon did not become ready in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await events.waitUntilReady();
    const timed = async (job: Job): Promise<DaemonRun['scans'][number]> => {
      const summary = (await job.waitUntilFinished(events, 600_000)) as ScanSummary;
      const done = (await queue.getJob(job.id!))!;
      return { wallMs: (done.finishedOn ?? 0) - (done.processedOn ?? 0), cpuMs: 0, credentials: summary.total };
    };
    const results: DaemonRun['scans'] = [];
    // The catch-up scan the daemon queued at start.
    const cpuBefore = cpuMsOf(child.pid!);
    let catchUp: Job | undefined;
    for (let i = 0; !catchUp; i++) {
      catchUp = (await queue.getJobs(['waiting', 'active', 'completed', 'prioritized']))[0];
      if (!catchUp) {
        if (i > 300) throw new Error('no catch-up scan was queued');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    results.push({ ...(await timed(catchUp)), cpuMs: Math.round(cpuMsOf(child.pid!) - cpuBefore) });
    for (let i = 1; i < scans; i++) {
      const before = cpuMsOf(child.pid!);
      const job = await queue.add('scan', { trigger: 'manual' });
      results.push({ ...(await timed(job)), cpuMs: Math.round(cpuMsOf(child.pid!) - before) });
    }
    const t = performance.now();
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    const scrapeMs = Math.round(performance.now() - t);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    return { scans: results, metrics: { bytes: Buffer.byteLength(text), series, scrapeMs }, peakRssMb: peakRssMbOf(child.pid!) };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await events.close();
    await queue.close();
    connection.disconnect();
  }
}

/** Bytes Redis uses for the stored scan (its pages, observations and pointer), and its largest value. */
async function redisBytes(url: string, prefix: string): Promise<{ scanBytes: number; largestValueBytes: number; usedMemoryMb: number }> {
  const redis = new Redis(url);
  try {
    let scanBytes = 0;
    let largest = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:scan:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        scanBytes += Number(await redis.memory('USAGE', key, 'SAMPLES', '0')) || 0;
        const type = await redis.type(key);
        if (type === 'string') largest = Math.max(largest, await redis.strlen(key));
        if (type === 'hash') {
          for (const [, value] of chunk(await redis.hgetall(key))) largest = Math.max(largest, Buffer.byteLength(value));
        }
      }
    } while (cursor !== '0');
    const info = await redis.info('memory');
    const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
    return { scanBytes, largestValueBytes: largest, usedMemoryMb: Math.round((used / 1024 / 1024) * 10) / 10 };
  } finally {
    redis.disconnect();
  }
}

function chunk(record: Record<string, string>): [string, string][] {
  return Object.entries(record);
}

async function measureSize(size: number, scans: number, latencyMs: number, daemonEnv: Record<string, string>) {
  const generated = Math.max(0, size - HELD.serviceAccounts - HELD.pats);
  const world = await startScanWorld({
    generatedServiceAccounts: Math.round(generated * 0.9),
    generatedPats: generated - Math.round(generated * 0.9),
    heldServiceAccounts: HELD.serviceAccounts,
    heldPats: HELD.pats,
    latencyMs,
  });
  try {
    const result = await runDaemon({ ...daemonEnv, ...world.env }, world.config.redis.prefix, world.redis.url, scans);
    const redis = await redisBytes(world.redis.url, world.config.redis.prefix);
    const [first, ...later] = result.scans;
    const steady = later.length > 0 ? { wallMs: median(later.map((s) => s.wallMs)), cpuMs: median(later.map((s) => s.cpuMs)) } : { wallMs: first!.wallMs, cpuMs: first!.cpuMs };
    return {
      size,
      credentials: first!.credentials,
      first: { wallMs: first!.wallMs, cpuMs: first!.cpuMs },
      steady,
      steadyPerThousand: { wallMs: Math.round((steady.wallMs / first!.credentials) * 1000 * 10) / 10, cpuMs: Math.round((steady.cpuMs / first!.credentials) * 1000 * 10) / 10 },
      peakRssMb: result.peakRssMb,
      redis: { ...redis, scanBytesPerCredential: Math.round(redis.scanBytes / first!.credentials) },
      metrics: result.metrics,
    };
  } finally {
    await world.close();
  }
}

export async function runScanBench(sizes: number[], scans: number, latencyMs = 50) {
  // The daemon under test is the shipped binary.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const daemonEnv = shippedMemoryEnv(readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8'));
  const results = [];
  for (const size of sizes) results.push(await measureSize(size, scans, latencyMs, daemonEnv));
  const bySize = new Map(results.map((r) => [r.size, r]));
  const base = bySize.get(10_000);
  const largest = results[results.length - 1]!;
  const linearity =
    base && largest.size > base.size
      ? { cpu: Math.round((largest.steadyPerThousand.cpuMs / base.steadyPerThousand.cpuMs) * 100) / 100, wall: Math.round((largest.steadyPerThousand.wallMs / base.steadyPerThousand.wallMs) * 100) / 100 }
      : null;
  const pass = {
    peakRss: results.every((r) => r.peakRssMb < (TARGETS.peakRssMb[r.size] ?? Infinity)),
    linearCpu: linearity === null || linearity.cpu <= TARGETS.linearityMax,
    linearWall: linearity === null || linearity.wall <= TARGETS.linearityMax,
    metricsSize: results.every((r) => r.metrics.bytes < TARGETS.metricsBytesMax),
    noLargeRedisValue: results.every((r) => r.redis.largestValueBytes < TARGETS.largestRedisValueBytesMax),
  };
  return {
    bench: 'scan' as const,
    simulatorLatencyMs: latencyMs,
    daemonEnv,
    held: HELD.serviceAccounts + HELD.pats,
    scansPerSize: scans,
    sizes: results,
    linearityAt: linearity ? { from: 10_000, to: largest.size, ...linearity } : null,
    targets: TARGETS,
    pass,
    ok: Object.values(pass).every(Boolean),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { sizes: { type: 'string' }, scans: { type: 'string' }, latency: { type: 'string' } }, strict: true });
  const sizes = (values.sizes ?? '1000,10000,50000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--sizes: comma-separated whole numbers of at least 100');
  const scans = Number(values.scans ?? 3);
  if (!Number.isInteger(scans) || scans < 1) throw new Error('--scans: a whole number >= 1');
  const latency = Number(values.latency ?? 50);
  if (!Number.isInteger(latency) || latency < 0) throw new Error('--latency: a whole number of ms >= 0');
  console.log(JSON.stringify(await runScanBench(sizes, scans, latency)));
}
