import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../clock.js';
import { silentLogger, type Logger } from '../../logger.js';
import { AwsApiError } from './aws-errors.js';
import { verifySigV4, type SigV4Credentials } from './sigv4.js';
import { SecretsManagerState, accountIdFor } from './state.js';

/**
 * A local AWS Secrets Manager: the JSON 1.1 protocol (`POST /`, `X-Amz-Target:
 * secretsmanager.<Action>`, `Content-Type: application/x-amz-json-1.1`), SigV4 verified for the
 * configured keys, the actions dfns-rotator and its consumers use (state.ts has their rules), and
 * knobs for latency and injected throttling / 5xx answers. The official AWS SDK works against it
 * unchanged with an endpoint override (test/contract/aws-server-sdk.test.ts).
 */

export type AwsAction = 'CreateSecret' | 'PutSecretValue' | 'GetSecretValue' | 'UpdateSecretVersionStage' | 'DescribeSecret' | 'ListSecrets' | 'DeleteSecret';

export interface AwsServerKnobs {
  /** Added before every answer. */
  latencyMs: number;
  /** Every Nth signed request is answered ThrottlingException (0: never). */
  throttleEvery: number;
  /** Every Nth signed request is answered 500 InternalServiceError (0: never). */
  failEvery: number;
  /**
   * Every Nth UpdateSecretVersionStage is refused as if another writer had just moved the label
   * (InvalidParameterException naming RemoveFromVersionId), without changing anything (0: never).
   */
  conflictEvery: number;
}

/** `conflict` only applies to UpdateSecretVersionStage (other actions are served). */
export type FaultKind = 'throttle' | '5xx' | 'conflict';

export interface AwsServerOptions {
  host?: string;
  port?: number;
  region?: string;
  credentials: SigV4Credentials[];
  knobs?: Partial<AwsServerKnobs>;
  clock?: Clock;
  logger?: Logger;
}

export interface AwsServerStats {
  requests: Partial<Record<AwsAction, number>>;
  throttled: number;
  failed: number;
  /** Injected label conflicts answered. */
  conflicts: number;
  refusedSignatures: number;
}

export interface RunningAwsServer {
  url: string;
  region: string;
  knobs: AwsServerKnobs;
  stats: AwsServerStats;
  /**
   * The next `count` requests (of `action`, or any) get this answer instead of being served;
   * with `after`, that many matching requests are served first.
   */
  injectFault(kind: FaultKind, count: number, action?: AwsAction, options?: { after?: number }): void;
  clearFaults(): void;
  /**
   * For crash tests: the `nth` request from now (counting only `actions`, if given) is never
   * answered, as if its client died mid-call: with phase `before` it is not carried out either,
   * with `after` it is carried out and only the answer is lost. Resolves with the held action when
   * it arrives.
   */
  holdRequest(options: { nth: number; phase: 'before' | 'after'; actions?: readonly AwsAction[] }): Promise<AwsAction>;
  close(): Promise<void>;
}

type Handler = (state: SecretsManagerState, input: Record<string, unknown>) => unknown;

const ACTIONS: Record<AwsAction, Handler> = {
  CreateSecret: (s, i) => s.createSecret(i),
  PutSecretValue: (s, i) => s.putSecretValue(i),
  GetSecretValue: (s, i) => s.getSecretValue(i),
  UpdateSecretVersionStage: (s, i) => s.updateSecretVersionStage(i),
  DescribeSecret: (s, i) => s.describeSecret(i),
  ListSecrets: (s, i) => s.listSecrets(i),
  DeleteSecret: (s, i) => s.deleteSecret(i),
};

const MAX_BODY = 1 << 20;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export async function startAwsSecretsManagerServer(options: AwsServerOptions): Promise<RunningAwsServer> {
  if (options.credentials.length === 0) throw new Error('the local Secrets Manager needs at least one access key');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const region = options.region ?? 'us-east-1';
  const state = new SecretsManagerState({ region, accountId: accountIdFor(options.credentials[0]!.accessKeyId), clock });
  const knobs: AwsServerKnobs = { latencyMs: 0, throttleEvery: 0, failEvery: 0, conflictEvery: 0, ...options.knobs };
  const stats: AwsServerStats = { requests: {}, throttled: 0, failed: 0, conflicts: 0, refusedSignatures: 0 };
  const injected: { kind: FaultKind | 'serve'; action?: AwsAction }[] = [];
  let stageMoves = 0;
  let signedCount = 0;
  let hold: { remaining: number; phase: 'before' | 'after'; actions?: readonly AwsAction[]; arrived(action: AwsAction): void } | null = null;
  const never = new Promise<never>(() => {});

  const faultFor = (action: AwsAction): FaultKind | null => {
    const i = injected.findIndex((f) => f.action === undefined || f.action === action);
    if (i >= 0) {
      const kind = injected.splice(i, 1)[0]!.kind;
      return kind === 'serve' ? null : kind;
    }
    signedCount += 1;
    if (knobs.throttleEvery > 0 && signedCount % knobs.throttleEvery === 0) return 'throttle';
    if (knobs.failEvery > 0 && signedCount % knobs.failEvery === 0) return '5xx';
    if (action === 'UpdateSecretVersionStage' && knobs.conflictEvery > 0 && ++stageMoves % knobs.conflictEvery === 0) return 'conflict';
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    let action: string | undefined;
    try {
      const body = await readBody(req);
      if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') throw new AwsApiError('UnknownOperationException', 'Only POST / is served (the JSON 1.1 protocol).', 404);
      const target = header(req, 'x-amz-target');
      const m = /^secretsmanager\.([A-Za-z]+)$/.exec(target ?? '');
      if (!m) throw new AwsApiError('UnknownOperationException', `Unknown or missing X-Amz-Target ${JSON.stringify(target ?? '')}.`);
      action = m[1]!;
      try {
        verifySigV4({ method: req.method, path: req.url ?? '/', headers: req.headers, body }, options.credentials, 'secretsmanager', clock.now());
      } catch (err) {
        stats.refusedSignatures += 1;
        throw err;
      }
      const run = ACTIONS[action as AwsAction];
      if (!run) throw new AwsApiError('UnknownOperationException', `This server does not implement ${action}.`);
      stats.requests[action as AwsAction] = (stats.requests[action as AwsAction] ?? 0) + 1;
      const fault = faultFor(action as AwsAction);
      if (fault === 'throttle') {
        stats.throttled += 1;
        throw new AwsApiError('ThrottlingException', 'Rate exceeded', 400);
      }
      if (fault === '5xx') {
        stats.failed += 1;
        throw new AwsApiError('InternalServiceError', 'An error occurred on the server side.', 500);
      }
      if (!(header(req, 'content-type') ?? '').startsWith(CONTENT_TYPE)) throw new AwsApiError('SerializationException', `Content-Type must be ${CONTENT_TYPE}.`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new AwsApiError('SerializationException', 'The request body is not valid JSON.');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new AwsApiError('SerializationException', 'The request body must be a JSON object.');
      if (fault === 'conflict' && action === 'UpdateSecretVersionStage') {
        stats.conflicts += 1;
        const { VersionStage, RemoveFromVersionId } = input as { VersionStage?: unknown; RemoveFromVersionId?: unknown };
        const label = String(VersionStage);
        throw new AwsApiError('InvalidParameterException', RemoveFromVersionId === undefined
          ? `The parameter RemoveFromVersionId can't be empty. Staging label ${label} is currently attached to another version, so you must explicitly reference that version in RemoveFromVersionId.`
          : `When you move staging label ${label}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${label}.`);
      }
      if (hold && (!hold.actions || hold.actions.includes(action as AwsAction)) && --hold.remaining === 0) {
        const held = hold;
        hold = null;
        if (held.phase === 'after') run(state, input as Record<string, unknown>);
        held.arrived(action as AwsAction);
        await never; // the connection stays open until close()
      }
      send(res, 200, requestId, run(state, input as Record<string, unknown>));
    } catch (err) {
      const e = err instanceof AwsApiError ? err : new AwsApiError('InternalServiceError', 'An error occurred on the server side.', 500);
      if (!(err instanceof AwsApiError)) logger.error({ err, action }, 'local Secrets Manager: unexpected error');
      res.setHeader('x-amzn-ErrorType', e.type);
      send(res, e.status, requestId, { __type: e.type, message: e.message });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    region,
    knobs,
    stats,
    injectFault(kind, count, action, opts = {}) {
      for (let i = 0; i < (opts.after ?? 0); i++) injected.push({ kind: 'serve', ...(action ? { action } : {}) });
      for (let i = 0; i < count; i++) injected.push({ kind, ...(action ? { action } : {}) });
    },
    clearFaults() {
      injected.length = 0;
    },
    holdRequest({ nth, phase, actions }) {
      if (!Number.isInteger(nth) || nth < 1) throw new RangeError(`nth must be an integer >= 1, got ${nth}`);
      return new Promise<AwsAction>((arrived) => {
        hold = { remaining: nth, phase, ...(actions ? { actions } : {}), arrived };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, requestId: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'x-amzn-RequestId': requestId });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AwsApiError('SerializationException', 'The request body is too large.', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
