import type { SimOperation, SimStats } from './types.js';

/** `arrivals` keeps the first million requests (a week-long CLI run would otherwise grow without bound). */
const MAX_ARRIVALS = 1_000_000;

export class StatsRecorder {
  #stats: SimStats = StatsRecorder.#empty();

  static #empty(): SimStats {
    return { requests: 0, byOperation: {}, byStatus: {}, rateLimited: 0, faultsInjected: 0, arrivals: [] };
  }

  arrival(nowMs: number, operation: SimOperation | undefined): void {
    this.#stats.requests++;
    if (this.#stats.arrivals.length < MAX_ARRIVALS) this.#stats.arrivals.push(nowMs);
    if (operation) this.#stats.byOperation[operation] = (this.#stats.byOperation[operation] ?? 0) + 1;
  }

  status(status: number | string): void {
    const key = String(status);
    this.#stats.byStatus[key] = (this.#stats.byStatus[key] ?? 0) + 1;
  }

  rateLimited(): void {
    this.#stats.rateLimited++;
  }

  fault(): void {
    this.#stats.faultsInjected++;
  }

  snapshot(): SimStats {
    const s = this.#stats;
    return { ...s, byOperation: { ...s.byOperation }, byStatus: { ...s.byStatus }, arrivals: [...s.arrivals] };
  }

  reset(): void {
    this.#stats = StatsRecorder.#empty();
  }
}
