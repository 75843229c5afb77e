/**
 * A local Dfns auth API for tests, the demo and benchmarks: the official `@dfns/sdk` works
 * against it unchanged. Independent of the project's own client (src/dfns/*.ts).
 */
export { startSimulator } from './simulator.js';
export { loadSeedFile, parseSeed } from './seed.js';
export { runSimulatorCli, SIMULATOR_USAGE, type SimulatorCliIo } from './cli.js';
export { DEFAULT_KNOBS, DOCUMENTED_SHAPES, SIM_OPERATIONS, FAULT_KINDS } from './knobs.js';
export { DROPPED_STATUS } from './types.js';
export type { FaultKind, RunningSimulator, SeedFile, SimKnobs, SimOperation, SimStats, SimulatorOptions } from './types.js';
