/**
 * CLI start-up (issue 12): `dfns-rotator --version` and `--help` load no command module, so they
 * answer in little more than Node's own start-up. Runs the built binary (`npm run build` first)
 * N times each (default 10) and reports the median wall time, beside a bare `node -e ""` on the
 * same machine (a shared machine's load shows there too). Target: under 200 ms.
 *
 * Run: `node --import tsx bench/cli-startup.bench.ts [runs]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TARGET_MS = 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

function time(args: string[], runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    samples.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 200)}`);
  }
  return Math.round(median(samples));
}

const runs = Number(process.argv[2] ?? 10);
if (!existsSync(CLI)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
const node = time(['-e', ''], runs);
const version = time([CLI, '--version'], runs);
const help = time([CLI, '--help'], runs);
const pass = { version: version < TARGET_MS, help: help < TARGET_MS };
console.log(JSON.stringify({
  bench: 'cli-startup',
  runs,
  medianMs: { bareNode: node, version, help },
  overBareNodeMs: { version: version - node, help: help - node },
  targets: { maxMs: TARGET_MS },
  pass,
  ok: Object.values(pass).every(Boolean),
}));
