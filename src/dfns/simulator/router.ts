import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { badRequest } from './dfns-errors.js';
import type { Caller } from './caller.js';
import type { ActionLog } from './action-log.js';
import type { ChallengeBook } from './user-actions.js';
import type { SimState } from './state.js';
import type { JwtIssuer } from './tokens.js';
import type { SimKnobs, SimOperation } from './types.js';
import type { ViewOptions } from './views.js';

/** What every handler can reach: the org, the token issuer, challenges, knobs and clock. */
export interface SimEnv {
  readonly state: SimState;
  readonly jwt: JwtIssuer;
  readonly book: ChallengeBook;
  /** Every signed action that succeeded, as Dfns' audit log shows them. */
  readonly actionLog: ActionLog;
  readonly knobs: SimKnobs;
  now(): number;
  view(): ViewOptions;
}

export interface SimRequest {
  operation: SimOperation;
  method: string;
  pathname: string;
  /** `?…` or ''. */
  search: string;
  params: Record<string, string>;
  rawBody: string;
  /** Parsed JSON body; undefined when the body was empty. */
  body: unknown;
  headers: IncomingHttpHeaders;
  now: number;
}

export interface AuthedRequest extends SimRequest {
  caller: Caller;
}

export interface Reply {
  status: number;
  /** JSON, unless `contentType` says the body is text (the audit log's CSV). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

interface RouteBase {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. `/auth/service-accounts/:serviceAccountId/activate` */
  path: string;
  operation: SimOperation;
}

/** `auth`: needs a bearer token. `userAction`: also needs X-DFNS-USERACTION bound to this request. */
export type Route =
  | (RouteBase & { auth: false; handler: (env: SimEnv, req: SimRequest) => Reply })
  | (RouteBase & { auth: true; userAction: boolean; handler: (env: SimEnv, req: AuthedRequest) => Reply });

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export class Router {
  readonly #routes: CompiledRoute[] = [];

  constructor(routes: readonly Route[]) {
    for (const route of routes) this.#routes.push({ route, segments: route.path.split('/').slice(1) });
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | null {
    const parts = pathname.split('/').slice(1);
    for (const { route, segments } of this.#routes) {
      if (route.method !== method || segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith(':')) {
          if (!part) { ok = false; break; }
          try {
            params[seg.slice(1)] = decodeURIComponent(part);
          } catch {
            ok = false;
            break;
          }
        } else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (ok) return { route, params };
    }
    return null;
  }
}

/**
 * Validates a JSON body; unknown properties are refused, as Dfns documents for its bodies
 * ("no other properties allowed"). An empty body counts as `{}`. 400 names every bad field.
 */
export function parseBody<T extends z.ZodType>(schema: T, req: SimRequest): z.infer<T> {
  const parsed = schema.safeParse(req.body === undefined ? {} : req.body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
    throw badRequest(`invalid request body: ${problems.join('; ')}`, { problems });
  }
  return parsed.data;
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}
