import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Sleep } from '../../src/clock.js';
import { createDfnsClient } from '../../src/dfns/client.js';
import { DfnsCreateOutcomeLostError, DfnsInvalidAnswerError, DfnsNetworkError, DfnsServerError } from '../../src/dfns/errors.js';
import { DFNS_APP_METADATA_CLAIM } from '../../src/dfns/jwt.js';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';
import type { DfnsPort } from '../../src/dfns/port.js';
import { RateLimiter } from '../../src/dfns/rate-limiter.js';

/**
 * Answers the simulator cannot give on demand (a 409 right after a lost create, a listing that
 * fails, HTML error pages, garbled 2xx bodies), from a real local HTTP server that plays a script.
 * The two signing steps of a user action are always answered.
 */
type Scripted = { status: number; body?: unknown; raw?: string; headers?: Record<string, string>; /** Sent in pieces this long, each on its own turn. */ chunkBytes?: number } | 'drop';

class ScriptedDfns {
  readonly requests: { method: string; path: string; userAction: boolean }[] = [];
  readonly #script = new Map<string, Scripted[]>();
  #server: Server | undefined;
  url = '';

  constructor(private readonly credId: string) {}

  /** Answers for `METHOD /path`, in order; the last one repeats. */
  on(route: string, ...answers: Scripted[]): this {
    this.#script.set(route, answers);
    return this;
  }

  count(route: string): number {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route).length;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const route = `${req.method} ${path}`;
        this.requests.push({ method: req.method ?? '', path, userAction: typeof req.headers['x-dfns-useraction'] === 'string' });
        let answer: Scripted;
        if (route === 'POST /auth/action/init') {
          answer = { status: 200, body: { challenge: 'Y2hhbGxlbmdl', challengeIdentifier: 'ci', allowCredentials: { key: [{ type: 'public-key', id: this.credId }], webauthn: [] }, supportedCredentialKinds: [], userVerification: 'discouraged', attestation: 'none', externalAuthenticationUrl: '' } };
        } else if (route === 'POST /auth/action') {
          answer = { status: 200, body: { userAction: 'single-use-action' } };
        } else {
          const queue = this.#script.get(route);
          answer = (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ?? { status: 404, body: { error: { message: `no script for ${route}` } } };
        }
        if (answer === 'drop') {
          req.socket.destroy();
          return;
        }
        const text = answer.raw ?? JSON.stringify(answer.body ?? {});
        res.writeHead(answer.status, { 'content-type': answer.raw ? 'text/html' : 'application/json', ...answer.headers });
        const piece = answer.chunkBytes;
        if (!piece) return res.end(text);
        const bytes = Buffer.from(text, 'utf8');
        const send = (at: number): void => {
          if (at >= bytes.length) return void res.end();
          res.write(bytes.subarray(at, at + piece));
          setImmediate(() => send(at + piece));
        };
        send(0);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server?.close(() => resolve());
      this.#server?.closeAllConnections();
    });
  }
}

const ORG = 'or-edge';
const CRED = 'edge-key';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const TOKEN = `${b64({ alg: 'EdDSA' })}.${b64({ exp: 4_102_444_800, [DFNS_APP_METADATA_CLAIM]: { orgId: ORG, tokenId: 'to-edge', tokenKind: 'ServiceAccount' } })}.c2ln`;

function saAnswer(name: string, id = 'us-orphan', accessToken?: string) {
  return {
    userInfo: { userId: id, username: id, name, orgId: ORG, isActive: true, permissionAssignments: [] },
    accessTokens: [{ tokenId: 'to-1', kind: 'ServiceAccount', name, isActive: true, dateCreated: '2025-01-01T00:00:00Z', credId: 'c', linkedUserId: id, orgId: ORG, publicKey: key.publicKeyPem, permissionAssignments: [], ...(accessToken ? { accessToken } : {}) }],
  };
}

let server: ScriptedDfns;
let key: KeyPairPem;
let clock: ManualClock;
let sleeps: number[];
let port: DfnsPort;

beforeEach(async () => {
  key ??= await generateKeyPair('ed25519');
  server = new ScriptedDfns(CRED);
  await server.start();
  clock = new ManualClock(Date.UTC(2025, 5, 1));
  sleeps = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  port = createDfnsClient({
    baseUrl: server.url,
    orgId: ORG,
    identity: { kind: 'token', token: TOKEN, signer: { credId: CRED, privateKeyPem: key.privateKeyPem }, label: 'edge sa' },
    limiter: new RateLimiter({ clock, sleep }),
    retry: { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 8_000, maxTotalDelayMs: 30_000 },
    clock,
    sleep,
    random: () => 0.5,
  });
});
afterEach(() => server.close());

describe('creates with an unknown outcome', () => {
  it('a 409 on the retry after an ambiguous attempt is reconciled: found -> DfnsCreateOutcomeLostError', async () => {
    server
      .on('POST /auth/service-accounts', 'drop', { status: 409, body: { error: { id: 'e-1', message: 'name taken' } } })
      .on('GET /auth/service-accounts', { status: 200, body: { items: [] } }, { status: 200, body: { items: [saAnswer('payments')] } });
    const err = await port.createServiceAccount({ name: 'payments', publicKeyPem: key.publicKeyPem }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsCreateOutcomeLostError);
    expect(err).toMatchObject({ recordId: 'us-orphan', operation: 'createServiceAccount', attempts: 2 });
    expect(server.count('POST /auth/service-accounts')).toBe(2);
    expect(server.count('GET /auth/service-accounts')).toBe(2);
  });

  it('when the lookup fails, the create is not sent again and the error says the outcome is unknown', async () => {
    server
      .on('POST /auth/service-accounts', 'drop')
      .on('GET /auth/service-accounts', { status: 403, body: { error: { message: 'not allowed to read' } } });
    const err = await port.createServiceAccount({ name: 'payments', publicKeyPem: key.publicKeyPem }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsNetworkError);
    expect((err as Error).message).toMatch(/outcome unknown: looking the record up failed \(DFNS_FORBIDDEN\)/);
    expect(server.count('POST /auth/service-accounts')).toBe(1);
  });

  it('a 2xx create answer that does not parse is reconciled too: the create happened', async () => {
    server
      .on('POST /auth/service-accounts', { status: 200, body: { userInfo: { userId: 'us-orphan' }, accessTokens: 'garbled' } })
      .on('GET /auth/service-accounts', { status: 200, body: { items: [saAnswer('payments')] } });
    const err = await port.createServiceAccount({ name: 'payments', publicKeyPem: key.publicKeyPem }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DFNS_CREATE_LOST', recordId: 'us-orphan' });
  });

  it('a new key credential whose answer was lost is found by its credId and returned', async () => {
    const credential = { kind: 'Key', credentialId: 'new-cred', credentialUuid: 'cr-1', dateCreated: '2025-01-01T00:00:00Z', isActive: true, name: 'next', publicKey: key.publicKeyPem, relyingPartyId: 'x', origin: '' };
    server
      .on('POST /auth/credentials/init', { status: 200, body: { kind: 'Key', challenge: 'Y2g', challengeIdentifier: 'ci-2', user: { id: 'u', name: 'n', displayName: 'n' } } })
      .on('POST /auth/credentials', { status: 503, body: { error: { message: 'busy' } } })
      .on('GET /auth/credentials', { status: 200, body: { items: [credential] } });
    const record = await port.createKeyCredential({ name: 'next', credId: 'new-cred', ...key });
    expect(record).toMatchObject({ credentialUuid: 'cr-1', credentialId: 'new-cred' });
    expect(server.count('POST /auth/credentials')).toBe(1);
  });
});

describe('retries', () => {
  it('maps a non-JSON 502 by its status and retries it', async () => {
    server.on('GET /auth/pats', { status: 502, raw: '<html>Bad gateway</html>' }, { status: 200, body: { items: [] } });
    await expect(port.listPersonalAccessTokens()).resolves.toEqual([]);
    expect(sleeps).toEqual([500]); // full jitter: 0.5 * min(8 s, 1 s * 2^0)
  });

  it('waits for an HTTP-date Retry-After', async () => {
    const at = new Date(clock.now() + 7_000).toUTCString();
    server.on('GET /auth/pats', { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': at } }, { status: 200, body: { items: [] } });
    await port.listPersonalAccessTokens();
    expect(sleeps).toEqual([7_000]);
  });

  it('gives up after maxAttempts with the typed error, attempts set and the operation named', async () => {
    server.on('GET /auth/pats', { status: 500, body: { error: { id: 'err-500', message: 'boom' } } });
    const err = await port.listPersonalAccessTokens().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsServerError);
    expect(err).toMatchObject({ attempts: 4, status: 500, dfnsErrorId: 'err-500', operation: 'listPersonalAccessTokens' });
    expect((err as Error).message).toBe('listPersonalAccessTokens: server error: boom (HTTP 500, Dfns error id err-500) (gave up after 4 attempts)');
    expect(sleeps).toEqual([500, 1_000, 2_000]);
  });

  it('stops early when the next wait would pass maxTotalDelayMs', async () => {
    server.on('GET /auth/pats', { status: 429, body: {}, headers: { 'retry-after': '20' } });
    const err = await port.listPersonalAccessTokens().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DFNS_RATE_LIMITED', attempts: 2, retryAfterSeconds: 20 });
    expect(sleeps).toEqual([20_000]);
  });

  it.each([400, 401, 402, 403, 404, 409])('does not retry %i', async (status) => {
    server.on('PUT /auth/pats/to-9/deactivate', { status, body: { error: { message: `status ${status}` } } });
    const err = await port.deactivatePersonalAccessToken('to-9').catch((e: unknown) => e);
    expect(err).toMatchObject({ status, attempts: 1, operation: 'deactivatePersonalAccessToken' });
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.userAction}`)).toEqual([
      'POST /auth/action/init false',
      'POST /auth/action false',
      'PUT /auth/pats/to-9/deactivate true',
    ]);
    expect(sleeps).toEqual([]);
  });

  it('a 2xx answer of the wrong shape fails the call, naming the fields, without retrying', async () => {
    server.on('GET /auth/service-accounts', { status: 200, body: { itemz: [] } });
    const err = await port.listServiceAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsInvalidAnswerError);
    expect((err as Error).message).toContain('items: expected array');
    expect(server.count('GET /auth/service-accounts')).toBe(1);
  });

  it('a JSON answer that arrives in pieces (split inside names and multi-byte characters) reads as the whole', async () => {
    const items = Array.from({ length: 40 }, (_, i) => saAnswer(`pay\u00e9ments-\u20ac-${i} "quoted" \\`, `us-${i}`));
    server.on('GET /auth/service-accounts', { status: 200, body: { items }, chunkBytes: 7 }, { status: 200, body: { items } });
    const inPieces = await port.listServiceAccounts();
    const whole = await port.listServiceAccounts();
    expect(inPieces).toHaveLength(40);
    expect(inPieces[3]!.name).toBe('pay\u00e9ments-\u20ac-3 "quoted" \\');
    expect(inPieces).toEqual(whole);
  });

  it('a 2xx JSON answer cut short fails the call as unreadable, without retrying, quoting none of it', async () => {
    const cut = `{"items":[${JSON.stringify(saAnswer('payments', 'us-1', 'eyJhbGciOiJFZERTQSJ9.a-token'))},{"userInfo":{"userId":"us-2"`;
    server.on('GET /auth/service-accounts', { status: 200, raw: cut, headers: { 'content-type': 'application/json; charset=utf-8' }, chunkBytes: 64 });
    const err = await port.listServiceAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsInvalidAnswerError);
    expect((err as Error).message).toContain('could not be read as JSON');
    expect(JSON.stringify({ message: (err as Error).message, ...(err as object) })).not.toContain('a-token');
    expect(server.count('GET /auth/service-accounts')).toBe(1);
  });

  it('a list item of the wrong shape is skipped and reported, the others kept', async () => {
    server.on('GET /auth/service-accounts', {
      status: 200,
      body: { items: [{ userInfo: { userId: 5 }, accessTokens: [] }, { userInfo: { userId: 'us-ok', isActive: true }, accessTokens: [] }] },
    });
    const listed = await port.listServiceAccountsDetailed();
    expect(listed.items.map((s) => s.id)).toEqual(['us-ok']);
    expect(listed.unreadable).toEqual([{ index: 0, id: null, problem: 'userInfo.userId: expected string; userInfo.isActive: expected boolean' }]);
  });
});
