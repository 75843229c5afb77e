import { open } from 'node:fs/promises';
import { systemClock } from '../../clock.js';
import { ConfigError } from '../../errors.js';
import { numberFlag, parseServerFlags } from '../../http/server-flags.js';
import type { Logger } from '../../logger.js';
import { DEFAULT_KNOBS, DOCUMENTED_SHAPES, validateKnobsPatch } from './knobs.js';
import { loadSeedFile } from './seed.js';
import { startSimulator } from './simulator.js';
import type { RunningSimulator, SimKnobs } from './types.js';

/**
 * `dfns-rotator simulator --port N --seed FILE [--tokens-out FILE] [--latency MS]
 * [--fault-rate X] [--rate-limit N] [--host H] [--documented-shapes] [--knob NAME=VALUE]…`. Starts the simulator on the real clock and
 * returns it; the caller (src/cli.ts) owns process signals and calls `close()`.
 */
export interface SimulatorCliIo {
  out(line: string): void;
  logger?: Logger;
}

export const SIMULATOR_USAGE =
  'usage: npx dfns-rotator simulator [--port N] [--host 127.0.0.1] [--seed FILE] [--tokens-out FILE] ' +
  '[--latency MS] [--fault-rate 0..1] [--rate-limit N] [--documented-shapes] [--knob NAME=VALUE]...';

/** `--knob omitKind=true`, `--knob patKeysOn=linked-user`: the value is JSON when it parses as JSON, else a string. */
function knobFlags(values: readonly string[], problems: string[]): Partial<SimKnobs> {
  const patch: Record<string, unknown> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) {
      problems.push(`--knob: expected NAME=VALUE (e.g. omitKind=true), got "${value}"`);
      continue;
    }
    const text = value.slice(eq + 1);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a bare string, e.g. patKeysOn=linked-user
    }
    patch[value.slice(0, eq)] = parsed;
  }
  try {
    return validateKnobsPatch(patch);
  } catch (err) {
    problems.push(...(err instanceof ConfigError ? err.problems : [(err as Error).message]).map((p) => `--knob ${p}`));
    return {};
  }
}

export async function runSimulatorCli(argv: string[], io: SimulatorCliIo): Promise<RunningSimulator> {
  const values = parseServerFlags(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'tokens-out': { type: 'string' },
      latency: { type: 'string' },
      'fault-rate': { type: 'string' },
      'rate-limit': { type: 'string' },
      'documented-shapes': { type: 'boolean' },
      knob: { type: 'string', multiple: true },
    },
    'simulator arguments',
    SIMULATOR_USAGE,
  );
  const problems: string[] = [];
  const port = numberFlag(values.port, 'port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer 0..65535', problems);
  const latency = numberFlag(values.latency, 'latency', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (ms)', problems);
  const faultRate = numberFlag(values['fault-rate'], 'fault-rate', (n) => n >= 0 && n <= 1, 'a number 0..1', problems);
  const rateLimit = numberFlag(values['rate-limit'], 'rate-limit', (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1 (requests per minute)', problems);
  const knobPatch = knobFlags(values.knob ?? [], problems);
  if (problems.length > 0) throw new ConfigError(problems, 'simulator arguments');

  // Flags override the seed file's knobs; --knob overrides --documented-shapes.
  const knobs: Partial<SimKnobs> = { ...(values['documented-shapes'] ? DOCUMENTED_SHAPES : {}), ...knobPatch };
  if (latency !== undefined) knobs.latencyMs = latency;
  if (faultRate !== undefined) knobs.faultRate = faultRate;
  if (rateLimit !== undefined) knobs.rateLimitPerMinute = rateLimit;
  const seed = values.seed === undefined ? undefined : await loadSeedFile(values.seed);

  // Real clock: tokens expire and rate-limit windows turn over as they would against Dfns.
  const sim = await startSimulator({
    host: values.host ?? '127.0.0.1', port: port ?? 0, seed, knobs, clock: systemClock, logger: io.logger,
  });
  io.out(`Dfns simulator listening on ${sim.url} (org ${sim.orgId})`);
  const changed = Object.entries(sim.knobs).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(DEFAULT_KNOBS[k as keyof SimKnobs]));
  if (changed.length > 0) io.out(`knobs: ${changed.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  const tokensOut = values['tokens-out'];
  if (tokensOut !== undefined) {
    try {
      const tokens = Object.fromEntries(sim.seededTokens);
      const file = await open(tokensOut, 'w', 0o600);
      try {
        // The open mode only applies to a new file: tighten an existing one before writing secrets.
        await file.chmod(0o600);
        await file.writeFile(`${JSON.stringify({ url: sim.url, orgId: sim.orgId, tokens }, null, 2)}\n`);
      } finally {
        await file.close();
      }
      io.out(`wrote ${sim.seededTokens.size} seeded access tokens to ${tokensOut} (mode 0600; development only)`);
    } catch (err) {
      await sim.close();
      throw new ConfigError([`--tokens-out: cannot write ${tokensOut}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], 'simulator arguments');
    }
  }
  return sim;
}
