/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own child process (so one benchmark's
 * heap, JIT state and timers cannot skew the next), one after the other (the machine may have
 * two cores), and prints each one's JSON line to stdout. Exit code 1 when a benchmark crashed or
 * printed no JSON; a benchmark that misses a target says so in its JSON (`ok: false`), noted on
 * stderr, without failing the run: timings on a shared CI machine are not a gate.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = join(BENCH_DIR, '..');

function runOne(file: string): Promise<{ code: number | null; json: unknown[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, file)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const json: unknown[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) {
          if (line.trim()) process.stderr.write(`${file}: ${line}\n`);
          continue;
        }
        try {
          json.push(JSON.parse(line));
        } catch {
          process.stderr.write(`${file}: not JSON: ${line.slice(0, 200)}\n`);
        }
      }
      resolve({ code, json });
    });
  });
}

const only = process.argv.slice(2);
const files = readdirSync(BENCH_DIR)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const file of files) {
  const { code, json } = await runOne(file);
  for (const result of json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if ((result as { ok?: unknown }).ok === false) process.stderr.write(`${file}: missed a target (see "pass")\n`);
  }
  if (code !== 0 || json.length === 0) {
    failed += 1;
    process.stderr.write(`${file}: ${code !== 0 ? `exited with code ${code}` : 'printed no JSON'}\n`);
  }
}
if (files.length === 0) process.stderr.write('no bench/*.bench.ts matched\n');
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
