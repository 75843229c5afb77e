import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { DfnsClientError } from './errors.js';
import { decodedResponse, decodesAsItArrives, EMPTY, readBody, readJson, type NodeFetchResponse, type ResponseCtor } from './answer-body.js';
import type { RequestBudget } from './request-budget.js';
import { requestStep, templateRoute, type RequestStep } from './routes.js';

/**
 * The transport seam. `@dfns/sdk` 0.8.x sends every request through `cross-fetch` (node-fetch 2)
 * and offers no hook for a fetch, an AbortSignal, a timeout, a retry or a rate limit
 * (dfns-api.md §7). `sdk-loader.ts` hands the SDK a wrapped `fetch` (`createSeamFetch`), and
 * `AsyncLocalStorage` tells that wrapper which of our calls a request belongs to, because the SDK
 * passes nothing of ours down its middleware chain. Inside a call, each request:
 *   (a) gets a timeout through an AbortSignal (node-fetch 2 honours `signal`), covering the body too;
 *   (b) takes a token from the shared rate limiter before it is sent, so the 3 requests of a user
 *       action all count, as they do at Dfns;
 *   (c) is reported to an observer (metrics);
 *   (d) is recorded, so the retry layer knows WHICH request failed: a failure of the signing
 *       requests mutated nothing, a failure of the request carrying `X-DFNS-USERACTION` may have;
 *   (e) has its body read to the end under the timeout: a JSON success decoded as it arrives
 *       (json-stream.ts: an unpaged list of 50,000 service accounts is never held as one text),
 *       anything else held once as bytes.
 * Outside our calls the wrapper passes requests through untouched.
 */

export type RequestOutcome =
  | {
      kind: 'answered';
      status: number;
      /** Raw `Retry-After` header, when sent. */
      retryAfter?: string;
      /** `error.id` of a Dfns error body. */
      dfnsErrorId?: string;
      /** `error.message` (or `message`) of a Dfns error body: Dfns' own text, which never echoes credentials. */
      dfnsMessage?: string;
      /** `id` of a 202 policy-approval body. */
      approvalId?: string;
    }
  | { kind: 'timeout' }
  | { kind: 'network'; /** e.g. ECONNRESET, ECONNREFUSED */ code: string };

export interface RequestRecord {
  method: string;
  route: string;
  step: RequestStep;
  /** Carried a user-action token: the request that changes state. */
  signed: boolean;
  /** Clock time the budget let it start. */
  startedAt?: number;
  outcome?: RequestOutcome;
}

export interface RequestEvent {
  operation: string;
  method: string;
  /** Templated: `/auth/service-accounts/:id`. */
  route: string;
  step: RequestStep;
  signed: boolean;
  status?: number;
  error?: 'timeout' | 'network';
  /** Clock time the limiter let the request start. */
  startedAt: number;
  durationMs: number;
}

export type RequestObserver = (event: RequestEvent) => void;

export interface TransportContext {
  /** The port operation, e.g. `createServiceAccount`. */
  operation: string;
  timeoutMs: number;
  limiter: Pick<RequestBudget, 'acquire'>;
  observer?: RequestObserver;
}

interface ActiveCall extends TransportContext {
  requests: RequestRecord[];
}

const storage = new AsyncLocalStorage<ActiveCall>();

type NodeFetchLike = (this: unknown, url: unknown, init?: Record<string, unknown>) => Promise<NodeFetchResponse>;

/** Wraps node-fetch's `fetch` (from the SDK's own `cross-fetch`) with the seam described above. */
export function createSeamFetch(original: NodeFetchLike, Response: ResponseCtor): NodeFetchLike {
  return async function seamFetch(this: unknown, url, init) {
    const call = storage.getStore();
    if (!call) return original.call(this, url, init);

    const method = String(init?.method ?? 'GET').toUpperCase();
    const route = templateRoute(pathnameOf(url));
    const record: RequestRecord = { method, route, step: requestStep(route), signed: hasUserAction(init?.headers) };
    call.requests.push(record);

    const startedAt = await call.limiter.acquire();
    record.startedAt = startedAt;
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, call.timeoutMs);
    try {
      const response = await original.call(this, url, { ...init, signal: controller.signal });
      // Read the body under the same timeout (a stalled body would otherwise hang the SDK's
      // `response.json()`), then give the SDK an equivalent, fully read response. A JSON success
      // is decoded as it arrives (json-stream.ts), never held whole as bytes and text.
      if (decodesAsItArrives(response)) {
        const decoded = await readJson(response);
        record.outcome = answeredOutcome(response, EMPTY);
        return decodedResponse(Response, response, decoded);
      }
      const body = await readBody(response);
      record.outcome = answeredOutcome(response, body);
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
        url: response.url,
      });
    } catch (err) {
      record.outcome = timedOut ? { kind: 'timeout' } : { kind: 'network', code: networkCode(err) };
      throw err;
    } finally {
      clearTimeout(timer);
      notify(call, record, startedAt, performance.now() - started);
    }
  };
}

export type AttemptResult<T> =
  | { ok: true; value: T; requests: RequestRecord[] }
  | { ok: false; error: unknown; requests: RequestRecord[] };

export const SEAM_BROKEN_MESSAGE =
  'the transport seam saw no HTTP request during an SDK call: the installed @dfns/sdk no longer ' +
  'sends requests through the cross-fetch it was given (sdk-loader.ts), so timeouts, rate limiting ' +
  'and retries would be silently off; refusing to continue';

/**
 * Runs one attempt of an SDK call inside a transport context. Never throws for SDK failures
 * (they come back as `{ ok: false }` with the requests made); throws a DfnsClientError when the
 * seam is broken, i.e. the SDK talked to Dfns without going through the wrapper.
 */
export async function runInTransport<T>(context: TransportContext, fn: () => Promise<T>): Promise<AttemptResult<T>> {
  const call: ActiveCall = { ...context, requests: [] };
  let result: AttemptResult<T>;
  try {
    const value = await storage.run(call, fn);
    result = { ok: true, value, requests: call.requests };
  } catch (error) {
    result = { ok: false, error, requests: call.requests };
  }
  if (call.requests.length === 0 && (result.ok || looksLikeHttpOutcome(result.error))) {
    throw new DfnsClientError(SEAM_BROKEN_MESSAGE, { operation: context.operation });
  }
  return result;
}

/** An error that only a request could have produced (vs. one thrown before sending, e.g. a signer check). */
function looksLikeHttpOutcome(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; httpStatus?: unknown; type?: unknown };
  if (e.name === 'FetchError' || e.name === 'AbortError') return true;
  return typeof e.httpStatus === 'number' && e.httpStatus >= 0;
}

function notify(call: ActiveCall, record: RequestRecord, startedAt: number, durationMs: number): void {
  if (!call.observer) return;
  const outcome = record.outcome;
  const event: RequestEvent = {
    operation: call.operation,
    method: record.method,
    route: record.route,
    step: record.step,
    signed: record.signed,
    startedAt,
    durationMs,
  };
  if (outcome?.kind === 'answered') event.status = outcome.status;
  else event.error = outcome?.kind === 'timeout' ? 'timeout' : 'network';
  try {
    call.observer(event);
  } catch {
    // Metrics must never break a Dfns call.
  }
}

function answeredOutcome(response: NodeFetchResponse, body: Buffer): RequestOutcome {
  const outcome: RequestOutcome = { kind: 'answered', status: response.status };
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter !== null) outcome.retryAfter = retryAfter;
  if (response.status === 202 || response.status >= 400) {
    const parsed = safeJson(body);
    const error = parsed?.error && typeof parsed.error === 'object' ? (parsed.error as Record<string, unknown>) : undefined;
    if (typeof error?.id === 'string') outcome.dfnsErrorId = error.id;
    const message = error?.message ?? parsed?.message;
    if (typeof message === 'string') outcome.dfnsMessage = message.slice(0, 500);
    if (response.status === 202) {
      const approvalId = parsed?.approvalId ?? parsed?.id;
      if (typeof approvalId === 'string') outcome.approvalId = approvalId;
    }
  }
  return outcome;
}

function safeJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function pathnameOf(url: unknown): string {
  if (url instanceof URL) return url.pathname;
  try {
    return new URL(String(url)).pathname;
  } catch {
    return String(url).split('?')[0] ?? '';
  }
}

function hasUserAction(headers: unknown): boolean {
  if (!headers || typeof headers !== 'object') return false;
  if (typeof (headers as { has?: unknown }).has === 'function') {
    return (headers as { has(name: string): boolean }).has('x-dfns-useraction');
  }
  return Object.keys(headers).some((k) => k.toLowerCase() === 'x-dfns-useraction');
}

function networkCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code ?? (err as { errno?: unknown }).errno;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'UNKNOWN';
}
