import type { JobType } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/** What the metrics need of a BullMQ queue. */
export interface CountableQueue {
  name: string;
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>;
  /** Absent on test doubles that cannot pause. */
  isPaused?(): Promise<boolean>;
}

/** BullMQ 6 has no `paused` state: a paused queue keeps its jobs in `waiting`. */
export const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children'] as const satisfies readonly JobType[];

/** Rides along with the counts in one read; not a job state. */
const PAUSED = '__paused';

type CountsResult = { ok: true; counts: Record<string, number>; paused: boolean } | { ok: false };

/**
 * `dfns_rotator_queue_jobs{queue,state}` and `dfns_rotator_queue_up{queue}`, read from Redis at
 * scrape time. Each read is bounded by `timeoutMs` so a down Redis never hangs `/metrics` (the
 * queue is reported with `queue_up 0` and no job counts); a read still pending from an earlier
 * scrape is awaited again rather than piling up new commands on a dead connection.
 */
export function registerQueueMetrics(registry: Registry, queues: readonly CountableQueue[], timeoutMs: number): void {
  const pending = new Map<string, Promise<Record<string, number>>>();
  let inFlight: Promise<CountsResult[]> | null = null;

  const readOne = (queue: CountableQueue): Promise<CountsResult> => {
    let read = pending.get(queue.name);
    if (!read) {
      read = Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused ? queue.isPaused() : false]).then(([counts, paused]) => ({ ...counts, [PAUSED]: paused ? 1 : 0 }));
      pending.set(queue.name, read);
      const done = () => pending.delete(queue.name);
      read.then(done, done);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CountsResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false }), timeoutMs);
      timer.unref();
    });
    return Promise.race([read.then((counts): CountsResult => ({ ok: true, counts, paused: counts[PAUSED] === 1 }), (): CountsResult => ({ ok: false })), timeout]).finally(() =>
      clearTimeout(timer),
    );
  };

  // prom-client calls every collect() of one scrape synchronously (Promise.all), so the second
  // gauge joins the read the first one started: one Redis round per scrape, one consistent view.
  const scrape = (): Promise<CountsResult[]> => {
    inFlight ??= Promise.all(queues.map(readOne)).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  new Gauge({
    name: 'dfns_rotator_queue_jobs',
    help: 'BullMQ jobs per queue and state, read at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const results = await scrape();
      this.reset();
      results.forEach((r, i) => {
        if (!r.ok) return;
        for (const state of JOB_STATES) this.set({ queue: queues[i]!.name, state }, r.counts[state] ?? 0);
      });
    },
  });

  new Gauge({
    name: 'dfns_rotator_queue_up',
    help: '1 when the queue job counts could be read from Redis during this scrape, else 0.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const results = await scrape();
      results.forEach((r, i) => this.set({ queue: queues[i]!.name }, r.ok ? 1 : 0));
    },
  });

  new Gauge({
    name: 'dfns_rotator_queue_paused',
    help: '1 when the queue is paused (nothing on it runs until resumed), else 0; absent when Redis could not be read.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const results = await scrape();
      this.reset();
      results.forEach((r, i) => {
        if (r.ok) this.set({ queue: queues[i]!.name }, r.paused ? 1 : 0);
      });
    },
  });
}
