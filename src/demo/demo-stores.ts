import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../clock.js';
import { DEFAULTS } from '../config/types.js';
import type { SecretStoreDeps } from '../secrets/index.js';
import { startAwsSecretsManagerServer } from '../secrets/aws-server/index.js';
import { cliCommand } from '../cli-name.js';
import { generateStoreKey, storeKeyToText } from '../secrets/store-key.js';
import { startVaultServer } from '../secrets/vault-server/index.js';

/**
 * The secret stores `npx dfns-rotator demo --store KIND` can run on: each starts its local server
 * (if any) and answers the daemon's environment and the one command a consuming service would
 * use to read the current credential. One entry per backend.
 */
export interface DemoStore {
  env: Record<string, string>;
  /** What the demo's in-process daemon needs besides the config to open the store (the local server's key). */
  deps?: Pick<SecretStoreDeps, 'awsCredentials'>;
  /** What a CLI in a second terminal needs besides `env` to open the store (written to DIR/env). */
  cliEnv?: Record<string, string>;
  /** Lines telling how a consumer reads `secretName`'s current credential, with the backend's own tools. */
  consumerRead(secretName: string): string[];
  close(): Promise<void>;
}

const DEMO_AWS_REGION = 'us-east-1';
const DEMO_AWS_PREFIX = DEFAULTS.awsNamePrefix;

export const DEMO_STORES = {
  async file(dir: string): Promise<DemoStore> {
    // The key as a file (mode 0600), so DIR/env can name it without printing it.
    const keyFile = join(dir, 'store.key');
    writeFileSync(keyFile, `${storeKeyToText(generateStoreKey())}\n`, { mode: 0o600 });
    return {
      env: { DFNS_ROTATOR_STORE: 'file', DFNS_ROTATOR_STORE_DIR: join(dir, 'secrets'), DFNS_ROTATOR_STORE_KEY_FILE: keyFile },
      consumerRead: (name) => [
        `${cliCommand('secret', 'get', name)} > credential.json   (after . ./.demo/env; a service reads it through a pipe or file like this)`,
        `${cliCommand('secret', 'get', name, '--field', 'access-token', '--show')}   (to look at it in a terminal: demo data only)`,
      ],
      close: async () => undefined,
    };
  },
  async vault(): Promise<DemoStore> {
    const rootToken = `hvs.demo-${randomBytes(12).toString('base64url')}`;
    const vault = await startVaultServer({ rootToken, clock: systemClock });
    return {
      env: { DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: vault.url, VAULT_TOKEN: rootToken },
      consumerRead: (name) => [
        `local Vault at ${vault.url} (root token ${rootToken}, demo only)`,
        `curl -s -H "X-Vault-Token: ${rootToken}" ${vault.url}/v1/secret/data/dfns-rotator/${name} | jq .data.data`,
      ],
      close: () => vault.close(),
    };
  },
  async 'aws-secrets-manager'(dir: string): Promise<DemoStore> {
    // A key pair for the local server only: never a real AWS key, never read from the environment.
    const key = { accessKeyId: `AKIADEMO${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') };
    const aws = await startAwsSecretsManagerServer({ credentials: [key], region: DEMO_AWS_REGION });
    // For a CLI in a second terminal: the SDK's own credentials file (mode 0600), not the environment.
    const credentialsFile = join(dir, 'aws-credentials');
    writeFileSync(credentialsFile, `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`, { mode: 0o600 });
    const creds = `AWS_ACCESS_KEY_ID=${key.accessKeyId} AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`;
    return {
      env: { DFNS_ROTATOR_STORE: 'aws-secrets-manager', AWS_REGION: DEMO_AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, DFNS_ROTATOR_AWS_NAME_PREFIX: DEMO_AWS_PREFIX },
      deps: { awsCredentials: key },
      cliEnv: { AWS_SHARED_CREDENTIALS_FILE: credentialsFile },
      consumerRead: (name) => {
        const id = `${DEMO_AWS_PREFIX}${name}`;
        return [
          `local AWS Secrets Manager at ${aws.url} (demo key ${key.accessKeyId}; a real service uses its IAM role instead)`,
          'AWS CLI:',
          `  ${creds} aws secretsmanager get-secret-value --endpoint-url ${aws.url} --region ${DEMO_AWS_REGION} --secret-id ${id} --query SecretString --output text`,
          'Node, the official SDK (run it from this folder):',
          `  ${creds} node --input-type=module -e "import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'; ` +
            `const r = await new SecretsManagerClient({ region: '${DEMO_AWS_REGION}', endpoint: '${aws.url}' }).send(new GetSecretValueCommand({ SecretId: '${id}' })); ` +
            `const c = JSON.parse(r.SecretString); console.log(r.VersionId, c.serviceAccountId, c.expiresAt)"`,
          '(no stage asked = AWSCURRENT, the current credential; --version-stage AWSPREVIOUS is the one before)',
        ];
      },
      close: () => aws.close(),
    };
  },
} satisfies Record<string, (dir: string) => Promise<DemoStore>>;

export type DemoStoreKind = keyof typeof DEMO_STORES;
export const DEMO_STORE_KINDS = Object.keys(DEMO_STORES) as DemoStoreKind[];
