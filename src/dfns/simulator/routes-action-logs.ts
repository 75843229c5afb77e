import { actionLogCsv } from './action-log.js';
import { badRequest, notFound } from './dfns-errors.js';
import { PERM, requirePermission } from './permissions.js';
import { ok, type Route } from './router.js';

/**
 * The audit log of signed actions, as documented (docs.dfns.co list-audit-logs, get-audit-log):
 * `GET /auth/action/logs?startTime=…&endTime=…[&userId=…]` answers `text/csv`, capped at
 * `actionLogMaxRows` rows with `X-Dfns-Result-Truncated: true` and a trailing `# TRUNCATED` line;
 * `GET /auth/action/logs/{id}` answers one entry as JSON. Both need `Auth:Logs:Read`.
 */
function isoTime(search: URLSearchParams, name: string): number {
  const value = search.get(name);
  if (!value) throw badRequest(`query parameter ${name} is required (ISO 8601 UTC date-time)`, { parameter: name });
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw badRequest(`query parameter ${name} must be an ISO 8601 UTC date-time`, { parameter: name });
  return ms;
}

export const actionLogRoutes: Route[] = [
  {
    method: 'GET', path: '/auth/action/logs', operation: 'ListAuditLogs', auth: true, userAction: false,
    handler: (env, req) => {
      requirePermission(env.state, req.caller, PERM.logsRead);
      const search = new URLSearchParams(req.search);
      const start = isoTime(search, 'startTime');
      const end = isoTime(search, 'endTime');
      if (end < start) throw badRequest('endTime must not be before startTime');
      const userId = search.get('userId') ?? undefined;
      if (userId !== undefined && (userId.length < 1 || userId.length > 64)) throw badRequest('userId must be 1 to 64 characters');
      const { rows, truncated } = env.actionLog.query(start, end, userId, env.knobs.actionLogMaxRows);
      return {
        status: 200,
        body: actionLogCsv(rows, truncated),
        contentType: 'text/csv; charset=utf-8',
        ...(truncated ? { headers: { 'x-dfns-result-truncated': 'true' } } : {}),
      };
    },
  },
  {
    method: 'GET', path: '/auth/action/logs/:id', operation: 'GetAuditLog', auth: true, userAction: false,
    handler: (env, req) => {
      requirePermission(env.state, req.caller, PERM.logsRead);
      const e = env.actionLog.get(req.params.id!);
      if (!e) throw notFound(`audit log ${req.params.id} not found`);
      return ok({
        id: e.id,
        action: e.summary,
        actionToken: '',
        userId: e.userId,
        username: e.username,
        datePerformed: new Date(e.datePerformed).toISOString(),
        firstFactorCredential: { id: e.credentialUuid, kind: 'Key', publicKey: e.publicKeyPem, assertion: null },
      });
    },
  },
];
