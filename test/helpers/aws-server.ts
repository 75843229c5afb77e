import type { Clock } from '../../src/clock.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsSecretsManagerServer, type AwsServerKnobs, type RunningAwsServer } from '../../src/secrets/aws-server/index.js';

/** The static test key the local Secrets Manager accepts (never a real AWS key). */
export const TEST_AWS_KEY = { accessKeyId: 'AKIDLOCALTEST0000001', secretAccessKey: 'local-test-secret-key-0000000000000000' } as const;

/** `clock` only moves the SigV4 skew check; give the simulator's clock when the signers use it too. */
export async function startTestAwsServer(knobs: Partial<AwsServerKnobs> = {}, clock?: Clock): Promise<RunningAwsServer> {
  return startAwsSecretsManagerServer({ credentials: [{ ...TEST_AWS_KEY }], region: 'eu-west-1', knobs, ...(clock ? { clock } : {}) });
}

/** The official client, unchanged, pointed at the local server: what a consuming service would build. */
export function sdkClientFor(server: RunningAwsServer, options: { credentials?: { accessKeyId: string; secretAccessKey: string }; maxAttempts?: number } = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    region: server.region,
    endpoint: server.url,
    credentials: options.credentials ?? { ...TEST_AWS_KEY },
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
}
