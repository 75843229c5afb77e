import { ConfigError } from '../../errors.js';
import { integerFlag, parseServerFlags } from '../../http/server-flags.js';
import type { Logger } from '../../logger.js';
import { startAwsSecretsManagerServer, type AwsServerKnobs, type RunningAwsServer } from './server.js';

export const AWS_SERVER_USAGE =
  'usage: npx dfns-rotator simulator aws-secrets-manager --access-key-id A --secret-access-key S [--port N] [--host 127.0.0.1] ' +
  '[--region us-east-1] [--latency MS] [--throttle-every N] [--fail-every N] [--conflict-every N]';

/**
 * `dfns-rotator simulator aws-secrets-manager …`: starts the local Secrets Manager on the real
 * clock and returns it; the caller owns signals and calls `close()`.
 */
export async function runAwsServerCli(argv: string[], io: { out(line: string): void; logger?: Logger }): Promise<RunningAwsServer> {
  const values = parseServerFlags(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      latency: { type: 'string' },
      'throttle-every': { type: 'string' },
      'fail-every': { type: 'string' },
      'conflict-every': { type: 'string' },
    },
    'simulator aws-secrets-manager arguments',
    AWS_SERVER_USAGE,
  );
  const problems: string[] = [];
  const int = (flag: keyof typeof values, min: number, max: number): number | undefined => integerFlag(values[flag] as string | undefined, flag, min, max, problems);
  const port = int('port', 0, 65535);
  const latency = int('latency', 0, 60_000);
  const throttleEvery = int('throttle-every', 0, 1_000_000);
  const failEvery = int('fail-every', 0, 1_000_000);
  const conflictEvery = int('conflict-every', 0, 1_000_000);
  const accessKeyId = values['access-key-id'];
  const secretAccessKey = values['secret-access-key'];
  if (!accessKeyId) problems.push('--access-key-id: required (the key id clients sign with, e.g. AKIDLOCAL)');
  if (!secretAccessKey) problems.push('--secret-access-key: required (the secret key clients sign with)');
  if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(values.region)) problems.push(`--region: ${JSON.stringify(values.region)} is not a region name like us-east-1`);
  if (problems.length > 0) throw new ConfigError([...problems, AWS_SERVER_USAGE], 'simulator aws-secrets-manager arguments');

  const knobs: Partial<AwsServerKnobs> = {};
  if (latency !== undefined) knobs.latencyMs = latency;
  if (throttleEvery !== undefined) knobs.throttleEvery = throttleEvery;
  if (failEvery !== undefined) knobs.failEvery = failEvery;
  if (conflictEvery !== undefined) knobs.conflictEvery = conflictEvery;
  const server = await startAwsSecretsManagerServer({
    host: values.host ?? '127.0.0.1',
    port: port ?? 0,
    region: values.region ?? 'us-east-1',
    credentials: [{ accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! }],
    knobs,
    logger: io.logger,
  });
  io.out(`AWS Secrets Manager simulator listening on ${server.url} (region ${server.region})`);
  return server;
}
