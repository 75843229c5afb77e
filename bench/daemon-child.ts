/**
 * A daemon in its own process for the benchmarks that run several (`startDaemon`, what
 * `dfns-rotator start` runs, without its cron schedule), reporting each Dfns request it makes
 * (start time, operation, status) and each rotation it finishes to the parent over Node IPC.
 *
 * Parent → child: `{ env, dir }` once, then `'stop'`. Child → parent: `{ type: 'ready' }`,
 * `{ type: 'requests', events }` (batched), `{ type: 'rotated', at, step }`, `{ type: 'stopped' }`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { startDaemon } from '../src/daemon/daemon.js';
import type { RotateResult } from '../src/jobs/rotate.js';
import { silentLogger } from '../src/logger.js';

export interface ChildRequest {
  at: number;
  operation: string;
  status: number | string;
}

type FromChild =
  | { type: 'ready' }
  | { type: 'requests'; events: ChildRequest[] }
  | { type: 'rotated'; at: number; step: string; queue: string }
  | { type: 'stopped' }
  | { type: 'error'; error: string };

export interface DaemonChild {
  requests: ChildRequest[];
  finished: { at: number; step: string; queue: string }[];
  stop(): Promise<void>;
}

export async function startDaemonChild(env: Record<string, string>, dir: string, onFinished?: () => void): Promise<DaemonChild> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', DAEMON_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const state: DaemonChild = { requests: [], finished: [], stop: async () => {} };
  let stopped: () => void = () => {};
  const stoppedP = new Promise<void>((resolve) => (stopped = resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'requests') for (const e of m.events) state.requests.push(e);
      else if (m.type === 'rotated') {
        state.finished.push({ at: m.at, step: m.step, queue: m.queue });
        onFinished?.();
      } else if (m.type === 'stopped') stopped();
      else if (m.type === 'error') reject(new Error(`daemon child: ${m.error}`));
    });
    child.once('exit', (code) => {
      stopped();
      reject(new Error(`daemon child exited (${code})`));
    });
    child.once('disconnect', () => stopped());
  });
  child.on('error', () => {}); // a child that died is reported by its exit
  child.send({ env, dir });
  await ready;
  state.stop = async () => {
    if (child.connected) child.send('stop', () => {});
    await stoppedP;
  };
  return state;
}

async function serve(): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  process.once('message', async (request: { env: Record<string, string>; dir: string }) => {
    try {
      const config = loadConfig({ env: request.env, readFile: (p) => readFileSync(p, 'utf8'), cwd: request.dir });
      let batch: ChildRequest[] = [];
      const flush = () => {
        if (batch.length > 0) send({ type: 'requests', events: batch });
        batch = [];
      };
      const timer = setInterval(flush, 250);
      const daemon = await startDaemon({
        config,
        logger: silentLogger,
        schedule: false,
        catchUp: false,
        runtime: { onDfnsRequest: (e) => batch.push({ at: e.startedAt, operation: e.operation, status: e.status ?? e.error ?? 'network' }) },
      });
      for (const w of daemon.runtime.workers()) {
        if (w.name !== 'rotate' && w.name !== 'retire') continue;
        w.on('completed', (_job, result: RotateResult | { step: string }) => send({ type: 'rotated', at: Date.now(), step: result.step, queue: w.name }));
      }
      send({ type: 'ready' });
      process.once('message', async () => {
        await daemon.stop('bench done');
        clearInterval(timer);
        flush();
        send({ type: 'stopped' });
        process.disconnect();
      });
    } catch (err) {
      send({ type: 'error', error: err instanceof Error ? err.stack ?? err.message : String(err) });
      process.exit(1);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.env.DAEMON_CHILD === '1' && process.send) await serve();
