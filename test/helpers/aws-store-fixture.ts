import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/clock.js';
import { AwsSecretsManagerStore, createSecretStore, type AwsSecretsManagerStoreSettings, type SecretStore, type SecretStoreDeps } from '../../src/secrets/index.js';
import type { AwsServerKnobs, RunningAwsServer } from '../../src/secrets/aws-server/index.js';
import { TEST_AWS_KEY, startTestAwsServer } from './aws-server.js';

/**
 * The aws-secrets-manager store on a private local Secrets Manager (the adapter with the official
 * SDK over real HTTP and SigV4), shaped like an entry of test/helpers/store-fixtures.ts so the
 * store-independent suites (contract, crash, daemon fixture) can run on it.
 */
export interface RunningAwsStore {
  kind: 'aws-secrets-manager';
  settings: AwsSecretsManagerStoreSettings;
  /** DFNS_ROTATOR_STORE, AWS_* and the static test key, for loadConfig and child processes (the SDK's env credential provider reads them). */
  env: Record<string, string>;
  /** A new handle on the same secrets (another process would open one). */
  open(deps?: SecretStoreDeps): SecretStore;
  /**
   * The adapter with one SDK attempt per call, so throttling and 5xx go to the store's own
   * retries on `sleep` (the SDK's backoff would wait in real time).
   */
  openWithSleep(sleep: (ms: number) => Promise<void>): AwsSecretsManagerStore;
  aws: RunningAwsServer;
  close(): Promise<void>;
}

export async function startAwsStore(options: { clock?: Clock; knobs?: Partial<AwsServerKnobs> } = {}): Promise<RunningAwsStore> {
  const aws = await startTestAwsServer(options.knobs, options.clock);
  const settings: AwsSecretsManagerStoreSettings = {
    kind: 'aws-secrets-manager', region: aws.region, endpoint: aws.url, kmsKeyId: null, namePrefix: `dfns-rotator-test-${randomBytes(3).toString('hex')}/`,
  };
  return {
    kind: 'aws-secrets-manager',
    settings,
    env: {
      DFNS_ROTATOR_STORE: 'aws-secrets-manager',
      AWS_REGION: aws.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      DFNS_ROTATOR_AWS_NAME_PREFIX: settings.namePrefix,
      AWS_ACCESS_KEY_ID: TEST_AWS_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_AWS_KEY.secretAccessKey,
    },
    open: (deps = {}) => createSecretStore(settings, { awsCredentials: { ...TEST_AWS_KEY }, ...deps }),
    openWithSleep: (sleep) => new AwsSecretsManagerStore({ ...settings, credentials: { ...TEST_AWS_KEY }, sdkMaxAttempts: 1, retries: 8, sleep }),
    aws,
    close: () => aws.close(),
  };
}

/** The signature of an entry of test/helpers/store-fixtures.ts' STORE_FIXTURES (its `dir` is unused here). */
export const awsStoreFixtureEntry = ({ clock }: { dir: string; clock?: Clock }): Promise<RunningAwsStore> => startAwsStore(clock ? { clock } : {});
