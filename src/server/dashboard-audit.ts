import type { RequestHandler } from 'express';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { AuditLog } from '../jobs/state/audit.js';
import type { Logger } from '../logger.js';

/**
 * Who did what on bull-board, in the audit log: retries and promotions start work again (a
 * failed rotation retried is a rotation), and pausing, cleaning or emptying a queue changes what
 * the daemon does. Add job writes its own, richer "requested" entry (add-job-guard.ts). Recorded
 * once the action succeeded; an audit write that fails is logged, as the action already happened.
 */
const ACTIONS: [RegExp, string][] = [
  [/^\/api\/queues\/pause$/, 'paused all queues'],
  [/^\/api\/queues\/resume$/, 'resumed all queues'],
  [/^\/api\/queues\/([^/]+)\/pause$/, 'paused queue'],
  [/^\/api\/queues\/([^/]+)\/resume$/, 'resumed queue'],
  [/^\/api\/queues\/([^/]+)\/retry\/([^/]+)$/, 'retried all jobs'],
  [/^\/api\/queues\/([^/]+)\/promote$/, 'promoted all delayed jobs'],
  [/^\/api\/queues\/([^/]+)\/clean\/([^/]+)$/, 'cleaned jobs'],
  [/^\/api\/queues\/([^/]+)\/empty$/, 'emptied queue'],
  [/^\/api\/queues\/([^/]+)\/obliterate$/, 'obliterated queue'],
  [/^\/api\/queues\/([^/]+)\/concurrency$/, 'set queue concurrency'],
  [/^\/api\/queues\/([^/]+)\/rate-limit(\/release)?$/, 'changed queue rate limit'],
  [/^\/api\/queues\/([^/]+)\/job-schedulers\/([^/]+)\/(remove|run)$/, 'changed a job scheduler'],
  [/^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/, 'retried job'],
  [/^\/api\/queues\/([^/]+)\/([^/]+)\/promote$/, 'promoted job'],
  [/^\/api\/queues\/([^/]+)\/([^/]+)\/clean$/, 'removed job'],
  [/^\/api\/queues\/([^/]+)\/([^/]+)\/(delay|priority)$/, 'rescheduled job'],
];

export function describeDashboardAction(method: string, path: string): { action: string; queue?: string; target?: string } | null {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
  for (const [pattern, action] of ACTIONS) {
    const m = pattern.exec(path);
    if (!m) continue;
    return { action, ...(m[1] ? { queue: decodeURIComponent(m[1]) } : {}), ...(m[2] ? { target: decodeURIComponent(m[2]) } : {}) };
  }
  return null;
}

export function dashboardAudit(deps: { audit?: Pick<AuditLog, 'record'>; clock: Clock; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    const audit = deps.audit;
    const described = audit ? describeDashboardAction(req.method, req.path) : null;
    if (audit && described) {
      const actor = String(res.locals.identity ?? 'dashboard');
      res.on('finish', () => {
        if (res.statusCode >= 400) return;
        const detail = [described.queue && `queue ${described.queue}`, described.target && `${described.action.endsWith('job') ? 'job' : 'target'} ${described.target}`].filter(Boolean).join(', ');
        audit
          .record({ at: deps.clock.now(), actor, action: described.action, outcome: 'info', ...(detail ? { detail } : {}) })
          .catch((err: unknown) => deps.logger.error({ err: describeError(err), action: described.action, actor }, 'could not write the audit entry of a dashboard action'));
      });
    }
    next();
  };
}
