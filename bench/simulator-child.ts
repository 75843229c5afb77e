/**
 * The Dfns simulator in its own process, for benchmarks that must not count its CPU as the
 * worker's, with a control channel (Node IPC) the `dfns-rotator simulator` CLI does not have:
 * the parent reads the simulator's stats (429s answered, arrivals) and changes knobs between a
 * setup phase and the measured one.
 *
 * Parent → child: `start` {seed, knobs}, `stats`, `reset-stats`, `set-knobs` {knobs}, `close`.
 * Child → parent: one answer per message, `{ id, ok, value | error }`.
 * Real clock: rate-limit windows and latency are wall-clock, as against Dfns.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/clock.js';
import { startSimulator, type RunningSimulator, type SeedFile, type SimKnobs, type SimStats } from '../src/dfns/simulator/index.js';

type Request =
  | { id: number; type: 'start'; seed: SeedFile; knobs: Partial<SimKnobs> }
  | { id: number; type: 'stats' }
  | { id: number; type: 'reset-stats' }
  | { id: number; type: 'set-knobs'; knobs: Partial<SimKnobs> }
  | { id: number; type: 'close' };

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface SimulatorChild {
  url: string;
  orgId: string;
  /** Tokens of the seeded service accounts and PATs, by name (benchmark-only credentials). */
  tokens: Record<string, string>;
  stats(): Promise<SimStats>;
  resetStats(): Promise<void>;
  setKnobs(knobs: Partial<SimKnobs>): Promise<void>;
  close(): Promise<void>;
}

/** Forks this file as the simulator process and starts the simulator in it. */
export async function startSimulatorChild(seed: SeedFile, knobs: Partial<SimKnobs>): Promise<SimulatorChild> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', SIMULATOR_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: Answer) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(`simulator child: ${message.error}`));
  });
  child.on('exit', (code) => {
    for (const w of pending.values()) w.reject(new Error(`simulator child exited (${code})`));
    pending.clear();
  });
  const ask = <T>(request: Omit<Request, 'id'>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...request, id });
    });

  const started = await ask<{ url: string; orgId: string; tokens: Record<string, string> }>({ type: 'start', seed, knobs } as Omit<Request, 'id'>);
  return {
    ...started,
    stats: () => ask<SimStats>({ type: 'stats' }),
    resetStats: () => ask<void>({ type: 'reset-stats' }),
    setKnobs: (patch) => ask<void>({ type: 'set-knobs', knobs: patch } as Omit<Request, 'id'>),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask<void>({ type: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  let sim: RunningSimulator | null = null;
  const reply = (answer: Answer) => process.send!(answer);
  process.on('message', async (request: Request) => {
    try {
      switch (request.type) {
        case 'start':
          sim = await startSimulator({ seed: request.seed, knobs: request.knobs, clock: systemClock });
          return reply({ id: request.id, ok: true, value: { url: sim.url, orgId: sim.orgId, tokens: Object.fromEntries(sim.seededTokens) } });
        case 'stats':
          return reply({ id: request.id, ok: true, value: sim!.stats() });
        case 'reset-stats':
          sim!.resetStats();
          return reply({ id: request.id, ok: true, value: null });
        case 'set-knobs':
          sim!.setKnobs(request.knobs);
          return reply({ id: request.id, ok: true, value: null });
        case 'close': {
          const closing = sim;
          sim = null;
          await closing?.close();
          reply({ id: request.id, ok: true, value: null });
          process.disconnect();
          return;
        }
      }
    } catch (err) {
      reply({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
  // The parent died without saying close: do not linger.
  process.on('disconnect', () => {
    if (!sim) process.exit(0);
    sim.close().then(() => process.exit(0), () => process.exit(1));
  });
}

if (process.env.SIMULATOR_CHILD === '1' && process.send) await serve();
