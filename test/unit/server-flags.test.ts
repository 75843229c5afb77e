import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { integerFlag, numberFlag, parseServerFlags } from '../../src/http/server-flags.js';
import { runAwsServerCli } from '../../src/secrets/aws-server/cli.js';
import { runVaultServerCli } from '../../src/secrets/vault-server/cli.js';
import { runSimulatorCli } from '../../src/dfns/simulator/cli.js';

const silent = { out: () => undefined };

async function problemsOf(run: Promise<unknown>): Promise<readonly string[]> {
  const err = await run.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe('the local servers\' flags', () => {
  it('refuses an unknown flag with the usage line, naming where', () => {
    const err = (() => {
      try {
        parseServerFlags(['--prot', '1'], { port: { type: 'string' } }, 'simulator vault arguments', 'usage: x');
        return null;
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain('invalid simulator vault arguments');
    expect(err!.problems[0]).toContain('--prot');
    expect(err!.problems.at(-1)).toBe('usage: x');
  });

  it('reads a number, and names the flag, the rule and the value when it is bad', () => {
    const problems: string[] = [];
    expect(integerFlag('8080', 'port', 0, 65535, problems)).toBe(8080);
    expect(integerFlag(undefined, 'port', 0, 65535, problems)).toBeUndefined();
    expect(problems).toEqual([]);
    expect(integerFlag('70000', 'port', 0, 65535, problems)).toBeUndefined();
    expect(integerFlag(' ', 'latency', 0, 10, problems)).toBeUndefined();
    expect(numberFlag('1.5', 'fault-rate', (n) => n >= 0 && n <= 1, 'a number 0..1', problems)).toBeUndefined();
    expect(numberFlag('0.25', 'fault-rate', (n) => n >= 0 && n <= 1, 'a number 0..1', problems)).toBe(0.25);
    expect(problems).toEqual([
      '--port: must be an integer 0..65535, got "70000"',
      '--latency: must be an integer 0..10, got " "',
      '--fault-rate: must be a number 0..1, got "1.5"',
    ]);
  });

  it('each server CLI lists every bad flag at once, before starting anything', async () => {
    expect(await problemsOf(runAwsServerCli(['--port', 'x', '--latency=-1'], silent))).toEqual([
      '--port: must be an integer 0..65535, got "x"',
      '--latency: must be an integer 0..60000, got "-1"',
      '--access-key-id: required (the key id clients sign with, e.g. AKIDLOCAL)',
      '--secret-access-key: required (the secret key clients sign with)',
      expect.stringContaining('usage: npx dfns-rotator simulator aws-secrets-manager'),
    ]);
    expect(await problemsOf(runVaultServerCli(['--port', '99999', '--fault-rate', '2'], silent))).toEqual([
      '--port: must be an integer 0..65535, got "99999"',
      '--fault-rate: must be a number 0..1, got "2"',
      expect.stringContaining('usage: npx dfns-rotator simulator vault'),
    ]);
    expect(await problemsOf(runSimulatorCli(['--rate-limit', '0'], silent))).toEqual(['--rate-limit: must be an integer >= 1 (requests per minute), got "0"']);
  });
});
