import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsSecretsManagerServer, type RunningAwsServer } from '../../src/secrets/aws-server/index.js';
import { startFakeSts, type FakeSts } from '../helpers/fake-sts.js';
import { LineChild } from '../helpers/line-child.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The store takes its AWS credentials from the SDK's default chain, as the AWS CLI does: here
// EKS IRSA's web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, exchanged at STS for a
// temporary key), with no key in dfns-rotator's configuration. A separate process, because the
// chain reads the process environment.

const ROLE = 'arn:aws:iam::123456789012:role/dfns-rotator';
const WEB_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.irsa-projected-service-account-token.sig';
const TEMP = { accessKeyId: 'ASIATEMPORARYKEY0001', secretAccessKey: 'temporary-secret-key', sessionToken: 'FwoGZXIvYXdzEXAMPLESESSION' };

describe('aws-secrets-manager store credentials from the default chain', () => {
  let tmp: { path: string; remove(): Promise<void> };
  let sts: FakeSts;
  let aws: RunningAwsServer;

  beforeAll(async () => {
    tmp = await makeTempDir();
    sts = await startFakeSts({ roleArn: ROLE, webIdentityToken: WEB_TOKEN }, TEMP);
    aws = await startAwsSecretsManagerServer({ credentials: [TEMP], region: 'eu-west-1' });
  });
  afterAll(async () => {
    await aws.close();
    await sts.close();
    await tmp.remove();
  });

  function run(tokenFileContent: string): Promise<string> {
    const tokenFile = join(tmp.path, `token-${Math.random().toString(36).slice(2)}`);
    writeFileSync(tokenFile, tokenFileContent, { mode: 0o600 });
    const child = new LineChild('aws-chain-child.ts', {
      HOME: tmp.path, // no ~/.aws of the machine running the tests
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DFNS_ORG_ID: 'or-test',
      DFNS_WATCHER_TOKEN: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3YXRjaGVyIn0.unused',
      DFNS_ROTATOR_DEFAULT_STRATEGY: 'notify',
      DFNS_ROTATOR_STORE: 'aws-secrets-manager',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    });
    return child.waitForLine(/^(\[|ERROR )/);
  }

  it('assumes the role with the web identity token and uses the temporary key and session token', async () => {
    expect(await run(WEB_TOKEN)).toBe('["irsa/bot"]');
    expect(sts.calls).toEqual([expect.objectContaining({ roleArn: ROLE })]);
    expect(aws.stats.requests.PutSecretValue).toBeGreaterThan(0);
  });

  it('fails with an access error naming the credentials when STS refuses the token', async () => {
    const line = await run('not-the-token');
    expect(line).toMatch(/^ERROR SECRET_STORE_ACCESS /);
    expect(line).toMatch(/InvalidIdentityToken/);
    expect(line).not.toContain(WEB_TOKEN);
  });
});
