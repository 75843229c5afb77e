import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../logger.js';
import { authenticate, principalKey, type Caller } from './caller.js';
import { SimHttpError, badRequest, errorBody, notFound } from './dfns-errors.js';
import { FaultInjector } from './faults.js';
import { OrgRequestWindow, retryAfterHeader } from './rate-limit.js';
import type { Reply, Router, SimEnv, SimRequest } from './router.js';
import type { StatsRecorder } from './stats.js';
import { DROPPED_STATUS, type SimOperation } from './types.js';
import { MAX_REQUEST_BODY_BYTES, readRequestBody } from '../../http/read-request-body.js';

/**
 * The request pipeline, in order: arrival (stats) -> body read -> rate limit (429) -> injected
 * fault (drop-before, 5xx, 429) -> route -> bearer token (401) -> X-DFNS-USERACTION for
 * mutations (403/400) -> handler -> drop-after fault -> latency -> answer. Every answer is JSON;
 * every error is in Dfns' shape.
 */

export interface PipelineParts {
  env: SimEnv;
  router: Router;
  stats: StatsRecorder;
  faults: FaultInjector;
  limiter: OrgRequestWindow;
  logger?: Logger;
  /** Told of each request as it arrives, before anything is decided about it. */
  onArrival?: (arrival: { method: string; path: string; operation: SimOperation | undefined }) => void;
}


function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType?: string): void {
  const text = contentType ? String(body) : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function errorReply(err: SimHttpError): Reply & { headers: Record<string, string> } {
  return { status: err.status, body: errorBody(err.status, err.message, err.details), headers: err.headers };
}

function dispatch(parts: PipelineParts, req: IncomingMessage, url: URL, rawBody: string, matched: ReturnType<Router['match']>): Reply {
  const { env } = parts;
  if (!matched) throw notFound('Route not found', { method: req.method, path: url.pathname });
  const { route, params } = matched;
  let body: unknown;
  if (rawBody !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      throw badRequest('request body is not valid JSON');
    }
  }
  const now = env.now();
  const base: SimRequest = {
    operation: route.operation, method: route.method, pathname: url.pathname, search: url.search,
    params, rawBody, body, headers: req.headers, now,
  };
  if (!route.auth) return route.handler(env, base);
  const caller = authenticate(env.state, env.jwt, req.headers.authorization, now);
  if (!route.userAction) return route.handler(env, { ...base, caller });
  const header = req.headers['x-dfns-useraction'];
  const credentialUuid = env.book.redeemUserAction(
    Array.isArray(header) ? header[0] : header,
    principalKey(caller),
    { method: route.method, path: url.pathname + url.search, payload: rawBody },
    now,
    env.knobs.userActionPathIncludesQuery,
  );
  const reply = route.handler(env, { ...base, caller });
  if (reply.status < 300) recordSignedAction(env, caller, credentialUuid, route.method, url.pathname, route.operation, now);
  return reply;
}

function recordSignedAction(env: SimEnv, caller: Caller, credentialUuid: string, method: string, path: string, operation: SimOperation, now: number): void {
  const credential = env.state.credentials.get(credentialUuid);
  env.actionLog.record({
    datePerformed: now,
    userId: caller.user.userId,
    username: caller.user.username,
    credentialUuid,
    credId: credential?.credId ?? '',
    publicKeyPem: credential?.publicKeyPem ?? '',
    method,
    actionPath: path,
    summary: `${operation} ${path}`,
  });
}

export function createSimServer(parts: PipelineParts): Server {
  const { env, router, stats, faults, limiter, logger } = parts;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = env.now();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const matched = router.match(req.method ?? 'GET', url.pathname);
    const operation: SimOperation | undefined = matched?.route.operation;
    stats.arrival(arrival, operation);
    parts.onArrival?.({ method: req.method ?? 'GET', path: url.pathname, operation });
    const knobs = env.knobs;

    const finish = async (reply: Reply, headers: Record<string, string> = {}) => {
      await sleep(knobs.latencyMs);
      stats.status(reply.status);
      logger?.debug({ method: req.method, path: url.pathname, operation, status: reply.status }, 'dfns simulator request');
      send(res, reply.status, reply.body, { ...reply.headers, ...headers }, reply.contentType);
    };
    const drop = () => {
      stats.status(DROPPED_STATUS);
      logger?.debug({ method: req.method, path: url.pathname, operation }, 'dfns simulator dropped the connection');
      req.socket.destroy();
    };
    const tooMany = (msUntilReset: number) => {
      const retryAfter = retryAfterHeader(knobs.retryAfterSeconds, msUntilReset);
      return finish(
        { status: 429, body: errorBody(429, 'Too many requests: rate limit exceeded', { limitPerMinute: knobs.rateLimitPerMinute }) },
        retryAfter === null ? {} : { 'retry-after': retryAfter },
      );
    };

    const rawBody = await readRequestBody(req);
    const wait = limiter.admit(arrival, knobs.rateLimitPerMinute);
    if (wait !== null) {
      stats.rateLimited();
      return tooMany(wait);
    }
    const fault = faults.draw(knobs, operation);
    if (fault) stats.fault();
    if (fault === 'drop-before') return drop();
    if (fault === 'server-error') {
      const status = faults.serverErrorStatus();
      return finish({ status, body: errorBody(status, 'Internal Server Error', { injected: true }) });
    }
    if (fault === 'rate-limited') return tooMany(limiter.msUntilReset(arrival));

    let reply: Reply;
    let headers: Record<string, string> = {};
    try {
      if (rawBody === null) throw badRequest(`request body larger than ${MAX_REQUEST_BODY_BYTES} bytes`);
      reply = dispatch(parts, req, url, rawBody, matched);
    } catch (err) {
      if (err instanceof SimHttpError) {
        ({ headers, ...reply } = errorReply(err));
      } else {
        logger?.error({ err, operation }, 'dfns simulator bug: unexpected error');
        reply = { status: 500, body: errorBody(500, 'Internal Server Error') };
      }
    }
    if (fault === 'drop-after') return drop();
    return finish(reply, headers);
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.error({ err }, 'dfns simulator failed to answer');
      if (!res.headersSent) send(res, 500, errorBody(500, 'Internal Server Error'));
    });
  });
}
