import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdPatSchema, createdServiceAccountSchema, createdServiceAccountToken, parseAnswer, toAccessTokenRecord, toServiceAccountRecord } from '../../src/dfns/answers.js';
import { createDfnsClient } from '../../src/dfns/client.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import { RateLimiter } from '../../src/dfns/rate-limiter.js';

/**
 * The answers of Dfns' own documentation (test/fixtures/dfns/, sources in its README), read by
 * the client: the list and get answers through the real client and official SDK over HTTP from a
 * server that replays them; the create answers, whose token the client cannot obtain from a
 * replay, through the client's create parsers.
 */
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/dfns/${name}.json`, import.meta.url), 'utf8'));

const ORG = 'or-yanke-mars-6ulofamogg84s87v';
/** An unsigned JWT with the one claim the SDK checks (`app_metadata.orgId`): nothing verifies it here. */
const TOKEN = ['{"alg":"none"}', JSON.stringify({ 'https://custom/app_metadata': { orgId: ORG } }), 'sig']
  .map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');

describe('Dfns answers copied from the documentation', () => {
  let server: Server;
  let answers: Record<string, unknown> = {};
  let client: DfnsPort;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = answers[`${req.method} ${req.url}`];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: { message: 'not in this replay' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = createDfnsClient({ baseUrl: `http://127.0.0.1:${port}`, orgId: ORG, identity: { kind: 'token', token: TOKEN }, limiter: new RateLimiter(), retry: { maxAttempts: 1 } });
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('GitBook List Service Accounts: both items, name from username', async () => {
    answers = { 'GET /auth/service-accounts': fixture('gitbook-list-service-accounts') };
    const listed = await client.listServiceAccountsDetailed();
    expect(listed.unreadable).toEqual([]);
    expect(listed.items.map((sa) => [sa.id, sa.name, sa.isActive, sa.accessTokens[0]!.credId, sa.accessTokens[0]!.isActive])).toEqual([
      ['us-9d8ii-4lpu8-6v9h98ulfq97poq', 'My Old Service Account', true, 'Y2ktQzNPNi1INU83LTNyamdwZ3ZuOGY5YzNwZ2pvdThqcW04b2xw', false],
      ['us-38clq-4cpoe-8rkofkec5tfpcg9c', 'My active service account', true, 'Y2ktNGpidGctOHNlOHMtOWE2cWo0N2ZoY2xvcWJqbA', true],
    ]);
    expect(listed.items[0]!.permissionAssignments).toEqual([]); // listed as none: known to be none
    expect(listed.items[1]!.permissionAssignments?.map((p) => p.permissionId)).toEqual(['pm-paris-lithi-17bf4kf01h8ajph4']);
  });

  it('GitBook List PATs', async () => {
    answers = { 'GET /auth/pats': fixture('gitbook-list-pats') };
    const [pat] = await client.listPersonalAccessTokens();
    expect(pat).toMatchObject({ tokenId: 'to-7vwr2-h2f29-9m6a0fmkk7rr2hj7', kind: 'Pat', name: 'My PAT', credId: 'Y2ktMWYxcTWtN3ZzbSAtODVhcZ5kY2lwZTY3ZTgwMg', orgId: 'or-yanke-mars-6ulofamogg8fs87v' });
  });

  it('current reference List Service Accounts: no kind, tenantId beside orgId', async () => {
    answers = { 'GET /auth/service-accounts': fixture('reference-list-service-accounts') };
    const [sa] = await client.listServiceAccounts();
    expect(sa).toMatchObject({ id: 'us-6b58p-r53sr-rlrd3l5cj3uc4ome', orgId: 'or-30tnh-itmjs-s235s5ontr3r23h2', isActive: true });
    expect(sa!.accessTokens[0]).toMatchObject({ tokenId: 'to-202a0-cdo33-o65mbt6q758lvvnt', kind: null, dateCreated: '2023-04-14T20:41:28.715Z' });
    expect(JSON.stringify(sa)).not.toContain('accessToken"'); // records never carry a token
  });

  it('current reference Get Service Account', async () => {
    answers = { 'GET /auth/service-accounts/us-6b58p-r53sr-rlrd3l5cj3uc4ome': fixture('reference-get-service-account') };
    const sa = await client.getServiceAccount('us-6b58p-r53sr-rlrd3l5cj3uc4ome');
    expect(sa).toMatchObject({ id: 'us-6b58p-r53sr-rlrd3l5cj3uc4ome', isActive: true });
  });

  it('GitBook user-action challenge: offers no Key credential (only WebAuthn)', async () => {
    answers = { 'POST /auth/action/init': fixture('gitbook-user-action-challenge') };
    expect(await client.signingCredentialIds()).toEqual([]);
  });

  it('GitBook Create Service Account: readable, credId left empty for the client to find', () => {
    const sa = parseAnswer('createServiceAccount', createdServiceAccountSchema, fixture('gitbook-create-service-account'));
    const record = toServiceAccountRecord(sa);
    expect(record).toMatchObject({ id: 'us-2q55i-g68v6-9etoie66crbdsh7k', name: 'My new service account', username: 'My new service account', orgId: 'or-yanke-mars-6ulofamogg84s87v' });
    expect(record.accessTokens[0]).toMatchObject({ credId: '', publicKey: '', kind: 'CustomerEmployee', tokenId: 'to-79hoo-ohdi6-9rnomnmhiavfb335' });
    expect(createdServiceAccountToken(sa)).toBe('eyJ0eXAiO...shGAkjbXAQsR9YJn3g');
  });

  it('current reference Create Service Account: no kind, accountId', () => {
    const sa = parseAnswer('createServiceAccount', createdServiceAccountSchema, fixture('reference-create-service-account'));
    expect(toServiceAccountRecord(sa)).toMatchObject({ id: 'us-6b58p-r53sr-rlrd3l5cj3uc4ome', orgId: 'or-30tnh-itmjs-s235s5ontr3r23h2' });
  });

  it('GitBook Create PAT: readable, credId and publicKey empty', () => {
    const pat = parseAnswer('createPersonalAccessToken', createdPatSchema, fixture('gitbook-create-pat'));
    expect(toAccessTokenRecord(pat)).toMatchObject({ tokenId: 'to-5kwgq-oegi0-879o3v4uh9ghhq72', credId: '', publicKey: '', name: 'My new personal access token' });
    expect(pat.accessToken).toBe('eyJ0eXAi...ulSXs3-5_NFOyFXJUSyUOQ');
  });
});
