import { ManualClock, type Clock } from '../../clock.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';

/** The simulator's clock: the injected one, else a ManualClock at the real now (moves only when told). */
export function simulatorClock(given: SimulatorOptions['clock']): RunningSimulator['clock'] {
  const clock: Clock & { advance?(ms: number): void; set?(to: number | Date): void } = given ?? new ManualClock(Date.now());
  return {
    now: () => clock.now(),
    advance(ms: number) {
      if (!clock.advance) throw new TypeError('the clock given to the simulator cannot be advanced (it has no advance())');
      clock.advance(ms);
    },
    set(to: number | Date) {
      if (!clock.set) throw new TypeError('the clock given to the simulator cannot be set (it has no set())');
      clock.set(to);
    },
  };
}
