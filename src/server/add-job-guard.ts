import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { AuditLog } from '../jobs/state/audit.js';
import { jobIds, ulid } from '../jobs/queues/ids.js';
import { describeIssues, rotateJobSchema, scanJobSchema } from '../jobs/queues/job-data.js';
import { ROTATE_JOB_OPTIONS, SCAN_JOB_OPTIONS } from '../jobs/queues/job-options.js';
import type { Logger } from '../logger.js';

/**
 * bull-board's "Add job" (`POST /api/queues/:queue/add`, body `{name, data, options}`) hands all
 * three to `queue.add` unchanged (@bull-board/api handlers/addJob.ts), so without this guard a
 * dashboard user picks any job name, any options (`attempts: 1e6`, a negative delay, a `repeat`
 * that runs a rotation every second, a `jobId` that squats the next scheduled scan's id) and any
 * data. Here each queue says what a manual job may be: its name, its data (the workers' own
 * schemas), and a few bounded options; anything else is refused with 400 naming the field. What
 * the daemon owns is replaced by its own, whatever was sent: the job id, retention and
 * deduplication in the options, and who asked (`requestedBy`), the rotation id and the request
 * time in the data. (bull-board's "Duplicate" pre-fills all of them from the original job, so
 * they are overridden rather than refused.) The audit log then gets a "requested" entry.
 */

const MAX_DELAY_MS = 7 * 86_400_000;
const MAX_BACKOFF_MS = 3_600_000;

const manualOptions = (maxAttempts: number) =>
  z.strictObject({
    attempts: z.number().int().min(1).max(maxAttempts, `at most ${maxAttempts} (the daemon's own setting)`).optional(),
    backoff: z
      .union([
        z.number().int().min(0).max(MAX_BACKOFF_MS),
        z.strictObject({ type: z.enum(['fixed', 'exponential']), delay: z.number().int().min(0).max(MAX_BACKOFF_MS, `at most ${MAX_BACKOFF_MS} ms`) }),
      ])
      .optional(),
    delay: z.number().int().min(0, 'must be 0 or more (ms)').max(MAX_DELAY_MS, `at most ${MAX_DELAY_MS} ms (7 days)`).optional(),
    priority: z.number().int().min(0).max(2 ** 21 - 1).optional(),
    lifo: z.boolean().optional(),
  });

/** Options a manual job may never have, with why, so the refusal teaches. */
const FORBIDDEN_OPTIONS: Record<string, string> = {
  repeat: 'not allowed on the dashboard: scans repeat on the configured schedule (DFNS_ROTATOR_SCHEDULE), rotations never repeat',
  repeatJobKey: 'not allowed on the dashboard: manual jobs do not repeat',
  parent: 'not allowed: manual jobs have no parent',
};

/**
 * Options the daemon sets itself: whatever is sent is replaced (a custom job id could squat the
 * next scheduled scan's id, or make BullMQ silently keep an old job instead of adding this one).
 */
const DAEMON_OPTIONS = ['jobId', 'removeOnComplete', 'removeOnFail', 'deduplication'];

interface QueuePolicy {
  jobName: string;
  maxAttempts: number;
  defaults: Record<string, unknown>;
  /** Validates data, adds the daemon's fields; returns the data and what to audit. */
  prepare(data: unknown, ctx: PrepareContext): Promise<Prepared>;
}

interface PrepareContext {
  identity: string;
  now: number;
  resolveSecret?: (credential: string) => Promise<string>;
}

type Prepared = { ok: true; data: Record<string, unknown>; jobId: string; audit: { action: string; secretName?: string; rotationId?: string; detail: string } } | { ok: false; problem: string };

/** Data fields the daemon sets itself on manual jobs: replaced, so nobody can speak for someone else or reuse a rotation id. */
const DAEMON_FIELDS = ['requestedBy', 'rotationId', 'requestedAt'];

function withoutDaemonFields(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !DAEMON_FIELDS.includes(k)));
}

const POLICIES: Record<string, QueuePolicy> = {
  scan: {
    jobName: 'scan',
    maxAttempts: SCAN_JOB_OPTIONS.attempts,
    defaults: SCAN_JOB_OPTIONS,
    async prepare(data, ctx) {
      const parsed = scanJobSchema.safeParse(withoutDaemonFields(data) ?? {});
      if (!parsed.success) return { ok: false, problem: prefixed(describeIssues(parsed.error)) };
      const scanId = ulid(ctx.now);
      return {
        ok: true,
        data: { ...(withoutDaemonFields(data) as object), requestedBy: ctx.identity },
        jobId: jobIds.scanManual(scanId),
        audit: { action: 'scan requested', detail: parsed.data.dryRun ? 'dry run' : `trigger ${parsed.data.trigger}` },
      };
    },
  },
  rotate: {
    jobName: 'rotate',
    maxAttempts: ROTATE_JOB_OPTIONS.attempts,
    defaults: ROTATE_JOB_OPTIONS,
    async prepare(data, ctx) {
      const parsed = rotateJobSchema.safeParse(withoutDaemonFields(data));
      if (!parsed.success) return { ok: false, problem: prefixed(describeIssues(parsed.error)) };
      let secretName: string | undefined;
      if (ctx.resolveSecret) {
        try {
          secretName = await ctx.resolveSecret(parsed.data.credential);
        } catch (err) {
          return { ok: false, problem: `data.credential: ${describeError(err)}` };
        }
      }
      const rotationId = ulid(ctx.now);
      return {
        ok: true,
        data: { ...parsed.data, rotationId, requestedBy: ctx.identity },
        jobId: jobIds.rotate(rotationId),
        audit: {
          action: 'requested',
          ...(secretName ? { secretName } : {}),
          rotationId,
          detail: `${parsed.data.strategy ?? 'configured strategy'}${parsed.data.resume ? ', resume' : ''}: ${parsed.data.reason}`,
        },
      };
    },
  },
};

function prefixed(issues: string): string {
  return issues
    .split('; ')
    .map((i) => `data.${i}`.replace('data.(data)', 'data'))
    .join('; ');
}

export interface AddJobGuardDeps {
  audit?: Pick<AuditLog, 'record'>;
  resolveSecret?: (credential: string) => Promise<string>;
  clock: Clock;
  logger: Logger;
}

/** Mounted on the dashboard path, after the JSON parser and the auth guard, before bull-board. */
export function addJobGuard(deps: AddJobGuardDeps): Router {
  const router = express.Router();
  router.post('/api/queues/:queueName/add', async (req: Request, res: Response, next) => {
    const queue = String(req.params.queueName);
    const policy = POLICIES[queue];
    if (!policy) return refuse(res, `queue "${queue}": jobs are queued by the daemon only; manual triggers go on "scan" or "rotate"`);
    const body = (req.body ?? {}) as { name?: unknown; data?: unknown; options?: unknown };
    // bull-board sends `__default__` when the job name field is left empty.
    const name = body.name === undefined || body.name === '' || body.name === '__default__' ? policy.jobName : body.name;
    if (name !== policy.jobName) return refuse(res, `name: unknown job name ${JSON.stringify(String(name).slice(0, 60))} on queue "${queue}"; use "${policy.jobName}"`);

    const options = body.options ?? {};
    if (typeof options !== 'object' || options === null || Array.isArray(options)) return refuse(res, 'options: must be a JSON object');
    const forbidden = Object.keys(options).find((k) => k in FORBIDDEN_OPTIONS);
    if (forbidden) return refuse(res, `options.${forbidden}: ${FORBIDDEN_OPTIONS[forbidden]}`);
    const checked = manualOptions(policy.maxAttempts).safeParse(Object.fromEntries(Object.entries(options).filter(([k]) => !DAEMON_OPTIONS.includes(k))));
    if (!checked.success) return refuse(res, describeIssues(checked.error).split('; ').map(optionIssue).join('; '));

    const identity = String(res.locals.identity ?? 'dashboard');
    const now = deps.clock.now();
    const prepared = await policy.prepare(body.data, { identity, now, ...(deps.resolveSecret ? { resolveSecret: deps.resolveSecret } : {}) });
    if (!prepared.ok) return refuse(res, prepared.problem);

    req.body = { name: policy.jobName, data: prepared.data, options: { ...policy.defaults, ...checked.data, jobId: prepared.jobId } };
    try {
      await deps.audit?.record({ at: now, actor: identity, outcome: 'info', ...prepared.audit });
    } catch (err) {
      // The trigger must not silently lose its audit entry: refuse rather than act unrecorded.
      deps.logger.error({ err: describeError(err), queue }, 'could not write the audit entry of a dashboard trigger; refusing it');
      res.status(503).json({ error: 'audit log unavailable', message: 'the trigger was not queued because its audit entry could not be written; try again' });
      return;
    }
    deps.logger.info({ queue, jobId: prepared.jobId, actor: identity }, 'dashboard trigger');
    next();
  });
  // bull-board can also edit a waiting job's data, and create or change a job scheduler (a
  // repeating job): both would bypass the checks above (a forged `requestedBy`, a rotation every
  // second). A queued job is replaced instead: remove it, add a new one.
  router.patch('/api/queues/:queueName/:jobId/update-data', (_req, res) =>
    refuse(res, 'jobData: editing a queued job is not allowed here; remove the job and add a new one (Add job checks it)'),
  );
  router.patch('/api/queues/:queueName/job-schedulers/:schedulerId', (_req, res) =>
    refuse(res, 'repeat: job schedulers are not allowed: scans repeat on the configured schedule (DFNS_ROTATOR_SCHEDULE)'),
  );
  return router;
}

function optionIssue(issue: string): string {
  // zod names unknown keys in the message with an empty path: name them as fields.
  const unknown = /^\(data\): Unrecognized keys?: (.+)$/.exec(issue);
  if (unknown) return `options.${unknown[1]!.replace(/"/g, '').split(', ')[0]}: not an option a manual job may set (allowed: attempts, backoff, delay, priority, lifo)`;
  return `options.${issue}`;
}

function refuse(res: Response, message: string): void {
  res.status(400).json({ error: 'refused', message });
}
