import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAwsServer } from '../../src/secrets/aws-server/index.js';
import { TEST_AWS_KEY, sdkClientFor, startTestAwsServer } from '../helpers/aws-server.js';

// The official AWS SDK, unchanged (endpoint override, static test credentials), against the local
// Secrets Manager: every action the store and its consumers use, the error shapes the SDK maps to
// its exception classes, and SigV4 refusals.

const T = (n: number) => `dfns-rotator-contract-token-${String(n).padStart(8, '0')}`;

let server: RunningAwsServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestAwsServer();
  sm = sdkClientFor(server, { maxAttempts: 1 });
});
afterAll(async () => {
  sm.destroy();
  await server.close();
});

/** The error a call was refused with; fails the test when the call succeeds. */
async function refusal(call: Promise<unknown>): Promise<SecretsManagerServiceException> {
  try {
    await call;
  } catch (err) {
    return err as SecretsManagerServiceException;
  }
  throw new Error('expected the call to be refused');
}

async function stagesOf(id: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};
}

describe('local Secrets Manager with the official AWS SDK', () => {
  it('creates a secret, reads AWSCURRENT by default and by VersionId, and describes it', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'sdk/one', SecretString: '{"v":1}', ClientRequestToken: T(1), Description: 'test', KmsKeyId: 'alias/test' }));
    expect(created.Name).toBe('sdk/one');
    expect(created.VersionId).toBe(T(1));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:sdk\/one-[0-9a-f]{6}$/);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/one' }));
    expect(got).toMatchObject({ SecretString: '{"v":1}', VersionId: T(1), VersionStages: ['AWSCURRENT'] });
    expect(got.CreatedDate).toBeInstanceOf(Date);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN, VersionId: T(1) }))).SecretString).toBe('{"v":1}');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'sdk/one' }));
    expect(described).toMatchObject({ Name: 'sdk/one', Description: 'test', KmsKeyId: 'alias/test', VersionIdsToStages: { [T(1)]: ['AWSCURRENT'] } });
  });

  it('refuses a second secret of the same name with ResourceExistsException', async () => {
    await expect(sm.send(new CreateSecretCommand({ Name: 'sdk/one', SecretString: 'x' }))).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('makes PutSecretValue idempotent on ClientRequestToken and refuses a changed value under the same token', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'sdk/put' }));
    expect(await stagesOf('sdk/put')).toEqual({});
    // the first version of a secret gets AWSCURRENT whatever labels were asked for
    const first = await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/put', SecretString: 'a', ClientRequestToken: T(2), VersionStages: ['custom'] }));
    expect(first.VersionStages?.sort()).toEqual(['AWSCURRENT', 'custom']);
    const pending = await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/put', SecretString: 'b', ClientRequestToken: T(3), VersionStages: ['AWSPENDING'] }));
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    const again = await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/put', SecretString: 'b', ClientRequestToken: T(3), VersionStages: ['AWSPENDING'] }));
    expect(again.VersionId).toBe(T(3));
    await expect(sm.send(new PutSecretValueCommand({ SecretId: 'sdk/put', SecretString: 'other', ClientRequestToken: T(3) }))).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/put' }))).SecretString).toBe('a');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/put', VersionStage: 'AWSPENDING' }))).SecretString).toBe('b');
    // without VersionStages a new version becomes AWSCURRENT and the old one AWSPREVIOUS
    await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/put', SecretString: 'c', ClientRequestToken: T(4) }));
    expect(await stagesOf('sdk/put')).toEqual({ [T(2)]: ['custom', 'AWSPREVIOUS'], [T(3)]: ['AWSPENDING'], [T(4)]: ['AWSCURRENT'] });
  });

  it('moves labels with UpdateSecretVersionStage: AWSPREVIOUS follows AWSCURRENT, RemoveFromVersionId must name the holder', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'sdk/stages', SecretString: 'v1', ClientRequestToken: T(10) }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/stages', SecretString: 'v2', ClientRequestToken: T(11), VersionStages: ['AWSPENDING'] }));
    // moving a label that is on another version needs RemoveFromVersionId naming that version
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: T(11) }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: T(11) }))).rejects.toThrow(/must explicitly reference that version in RemoveFromVersionId/);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: T(11), RemoveFromVersionId: T(11) }))).rejects.toBeInstanceOf(InvalidParameterException);
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: T(11), RemoveFromVersionId: T(10) }));
    expect(await stagesOf('sdk/stages')).toEqual({ [T(10)]: ['AWSPREVIOUS'], [T(11)]: ['AWSPENDING', 'AWSCURRENT'] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSPENDING', RemoveFromVersionId: T(11) }));
    expect(await stagesOf('sdk/stages')).toEqual({ [T(10)]: ['AWSPREVIOUS'], [T(11)]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v1');
    // a label attached nowhere can be attached without RemoveFromVersionId
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'mine', MoveToVersionId: T(10) }));
    expect((await stagesOf('sdk/stages'))[T(10)]).toEqual(['AWSPREVIOUS', 'mine']);
    // AWSCURRENT can only move, never be removed
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSCURRENT', RemoveFromVersionId: T(11) }))).rejects.toThrow(/can't be completely removed/);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'sdk/stages', VersionStage: 'AWSPENDING', MoveToVersionId: 'no-such-version-0000000000000000000' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers ResourceNotFoundException for a missing secret or label, with the SDK metadata', async () => {
    const err = await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/missing' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toBeInstanceOf(SecretsManagerServiceException);
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400);
    expect((err as ResourceNotFoundException).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'sdk/one', VersionStage: 'AWSPENDING' }))).rejects.toThrow(/can't find the specified secret value for staging label: AWSPENDING/);
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'sdk/missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('lists secrets page by page, filtered by a name prefix', async () => {
    for (let i = 0; i < 7; i++) await sm.send(new CreateSecretCommand({ Name: `list/p-${i}`, SecretString: `s${i}`, ClientRequestToken: T(100 + i) }));
    await sm.send(new CreateSecretCommand({ Name: 'other/x', SecretString: 'x' }));
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 3, Filters: [{ Key: 'name', Values: ['list/'] }] }));
    expect(first.SecretList?.map((s) => s.Name)).toEqual(['list/p-0', 'list/p-1', 'list/p-2']);
    expect(first.NextToken).toBeTypeOf('string');
    expect(first.SecretList?.[0]?.SecretVersionsToStages).toEqual({ [T(100)]: ['AWSCURRENT'] });
    const names: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 2 }, { Filters: [{ Key: 'name', Values: ['list/'] }] })) {
      expect(page.SecretList!.length).toBeLessThanOrEqual(2);
      names.push(...page.SecretList!.map((s) => s.Name!));
    }
    expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `list/p-${i}`));
    await expect(sm.send(new ListSecretsCommand({ MaxResults: 500 }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('deletes a secret: marked for deletion it refuses reads with InvalidRequestException; forced it is gone', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'sdk/del', SecretString: 'x' }));
    const marked = await sm.send(new DeleteSecretCommand({ SecretId: 'sdk/del', RecoveryWindowInDays: 7 }));
    expect(marked.DeletionDate).toBeInstanceOf(Date);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'sdk/del' }))).rejects.toBeInstanceOf(InvalidRequestException);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'sdk/del' }))).DeletedDate).toBeInstanceOf(Date);
    await sm.send(new DeleteSecretCommand({ SecretId: 'sdk/del', ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'sdk/del' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses an unknown access key and a wrong secret key as AWS does', async () => {
    const unknown = sdkClientFor(server, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: TEST_AWS_KEY.secretAccessKey }, maxAttempts: 1 });
    const wrong = sdkClientFor(server, { credentials: { accessKeyId: TEST_AWS_KEY.accessKeyId, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
    try {
      const refusedBefore = server.stats.refusedSignatures;
      const e1 = await refusal(unknown.send(new GetSecretValueCommand({ SecretId: 'sdk/one' })));
      expect(e1.name).toBe('UnrecognizedClientException');
      expect(e1.$metadata.httpStatusCode).toBe(400);
      const e2 = await refusal(wrong.send(new GetSecretValueCommand({ SecretId: 'sdk/one' })));
      expect(e2.name).toBe('InvalidSignatureException');
      expect(e2.message).toMatch(/signature we calculated does not match/);
      expect(server.stats.refusedSignatures).toBe(refusedBefore + 2);
    } finally {
      unknown.destroy();
      wrong.destroy();
    }
  });

  it('refuses an unsigned request and a body changed after signing', async () => {
    const unsigned = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' }, body: '{}' });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const tampering = sdkClientFor(server, { maxAttempts: 1 });
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body: string | Uint8Array };
        const text = typeof req.body === 'string' ? req.body : Buffer.from(req.body).toString('utf8');
        req.body = text.replace('sdk/one', 'sdk/put'); // same length: only the signature can tell
        return next(args);
      },
      { step: 'deserialize', name: 'tamper' },
    );
    try {
      const e = await refusal(tampering.send(new GetSecretValueCommand({ SecretId: 'sdk/one' })));
      expect(e.name).toBe('InvalidSignatureException');
    } finally {
      tampering.destroy();
    }
  });

  it('refuses a version beyond the quota of 100 while all are younger than a day', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'sdk/quota' }));
    for (let i = 0; i < 100; i++) await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/quota', SecretString: `v${i}`, ClientRequestToken: T(1000 + i) }));
    const e = await refusal(sm.send(new PutSecretValueCommand({ SecretId: 'sdk/quota', SecretString: 'one more', ClientRequestToken: T(2000) })));
    expect(e.name).toBe('LimitExceededException');
    // the newest is still current; a repeated write of an existing version is still a no-op
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'sdk/quota' }))).SecretString).toBe('v99');
    expect((await sm.send(new PutSecretValueCommand({ SecretId: 'sdk/quota', SecretString: 'v99', ClientRequestToken: T(1099) }))).VersionId).toBe(T(1099));
  });

  it('answers injected throttling and 5xx, which the SDK retries with its backoff', async () => {
    const retrying = sdkClientFor(server, { maxAttempts: 3 });
    try {
      server.injectFault('throttle', 1, 'GetSecretValue');
      server.injectFault('5xx', 1, 'GetSecretValue');
      const before = { throttled: server.stats.throttled, failed: server.stats.failed };
      const got = await retrying.send(new GetSecretValueCommand({ SecretId: 'sdk/one' }));
      expect(got.SecretString).toBe('{"v":1}');
      expect(got.$metadata.attempts).toBe(3);
      expect(server.stats.throttled - before.throttled).toBe(1);
      expect(server.stats.failed - before.failed).toBe(1);
      server.injectFault('throttle', 1);
      const e = await refusal(sm.send(new DescribeSecretCommand({ SecretId: 'sdk/one' })));
      expect(e.name).toBe('ThrottlingException');
    } finally {
      retrying.destroy();
    }
  });
});
