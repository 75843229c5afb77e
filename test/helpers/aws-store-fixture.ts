import { randomBytes } from 'node:crypto';
import { createSecretStore, type SecretStore } from '../../src/secrets/index.js';
import type { AwsServerKnobs, RunningAwsServer } from '../../src/secrets/aws-server/index.js';
import { TEST_AWS_KEY, startTestAwsServer } from './aws-server.js';

/**
 * The aws-secrets-manager store on a private local Secrets Manager, for the store-independent
 * suites (contract, crash, rotation): the adapter with the official SDK over real HTTP and SigV4.
 */
export interface AwsStoreFixture {
  server: RunningAwsServer;
  namePrefix: string;
  /** A new handle on the same secrets (what another process would open). */
  open(options?: { sleep?: (ms: number) => Promise<void> }): SecretStore;
  /** The environment a spawned daemon or CLI needs to reach the same store. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startAwsStoreFixture(knobs: Partial<AwsServerKnobs> = {}): Promise<AwsStoreFixture> {
  const server = await startTestAwsServer(knobs);
  const namePrefix = `dfns-rotator-test-${randomBytes(3).toString('hex')}/`;
  const settings = { kind: 'aws-secrets-manager' as const, region: server.region, endpoint: server.url, kmsKeyId: null, namePrefix };
  return {
    server,
    namePrefix,
    open: (options = {}) => createSecretStore(settings, { awsCredentials: { ...TEST_AWS_KEY }, ...(options.sleep ? { sleep: options.sleep } : {}) }),
    env: {
      DFNS_ROTATOR_STORE: 'aws-secrets-manager',
      AWS_REGION: server.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      DFNS_ROTATOR_AWS_NAME_PREFIX: namePrefix,
      AWS_ACCESS_KEY_ID: TEST_AWS_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_AWS_KEY.secretAccessKey,
    },
    close: () => server.close(),
  };
}
