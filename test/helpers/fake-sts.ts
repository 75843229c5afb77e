import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server standing in for AWS STS' AssumeRoleWithWebIdentity (the Query protocol:
 * form-encoded POST, XML answer), the call the AWS SDK's web-identity credential provider makes
 * for EKS IRSA. It checks the role and the token file's content, and hands out the temporary key
 * the local Secrets Manager is started with.
 */
export interface FakeSts {
  url: string;
  /** RoleArn and RoleSessionName of each AssumeRoleWithWebIdentity call. */
  calls: { roleArn: string; sessionName: string }[];
  close(): Promise<void>;
}

export async function startFakeSts(expect: { roleArn: string; webIdentityToken: string }, issue: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): Promise<FakeSts> {
  const calls: FakeSts['calls'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const requestId = randomUUID();
      const fail = (code: string, message: string) =>
        res.writeHead(400, { 'content-type': 'text/xml' }).end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
      if (form.get('Action') !== 'AssumeRoleWithWebIdentity') return fail('InvalidAction', `unsupported action ${form.get('Action')}`);
      if (form.get('RoleArn') !== expect.roleArn) return fail('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      if (form.get('WebIdentityToken') !== expect.webIdentityToken) return fail('InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider");
      calls.push({ roleArn: form.get('RoleArn')!, sessionName: form.get('RoleSessionName') ?? '' });
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
          `<Credentials><AccessKeyId>${issue.accessKeyId}</AccessKeyId><SecretAccessKey>${issue.secretAccessKey}</SecretAccessKey><SessionToken>${issue.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `<SubjectFromWebIdentityToken>system:serviceaccount:payments:dfns-rotator</SubjectFromWebIdentityToken>` +
          `<AssumedRoleUser><Arn>${expect.roleArn.replace(':role/', ':assumed-role/')}/${form.get('RoleSessionName') ?? 'session'}</Arn><AssumedRoleId>AROAFAKE:${form.get('RoleSessionName') ?? 'session'}</AssumedRoleId></AssumedRoleUser>` +
          `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
