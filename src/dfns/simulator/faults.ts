import { seededRandom } from './rng.js';
import type { FaultKind, SimKnobs, SimOperation } from './types.js';

/**
 * Injected faults: each request (with a known operation, or any when faultOperations is empty)
 * draws from a seeded RNG; below faultRate it gets one of faultKinds, chosen uniformly. The same
 * seed and request sequence give the same faults.
 */
export class FaultInjector {
  #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  reseed(seed: number): void {
    this.#random = seededRandom(seed);
  }

  draw(knobs: SimKnobs, operation: SimOperation | undefined): FaultKind | null {
    if (knobs.faultRate <= 0 || knobs.faultKinds.length === 0) return null;
    if (knobs.faultOperations.length > 0 && (!operation || !knobs.faultOperations.includes(operation))) return null;
    if (this.#random() >= knobs.faultRate) return null;
    return knobs.faultKinds[Math.floor(this.#random() * knobs.faultKinds.length)] ?? null;
  }

  /** The status of a server-error fault: 500, 502 or 503. */
  serverErrorStatus(): number {
    return [500, 502, 503][Math.floor(this.#random() * 3)] ?? 500;
  }
}
