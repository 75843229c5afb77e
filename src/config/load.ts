import { createPrivateKey } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { validateDetailed } from 'node-cron';
import { parse as parseYaml } from 'yaml';
import type { KeyAlgorithm } from '../dfns/port.js';
import { ConfigError } from '../errors.js';
import { webhookUrlProblem } from '../notify/webhook-url.js';
import { configFromEnv, envNamesFor } from './env.js';
import { absolutizeFileRefs, checkStoreKey, hint, resolveSecret } from './resolve-secret.js';
import { buildStoreConfig } from './store.js';
import { rawConfigSchema, type RawConfig, type SecretRef } from './schema.js';
import { SecretValue } from './secret-value.js';
import { DEFAULTS, defaultRotateConcurrency, type Config, type DashboardAuth, type KeySource, type RedisSettings, type Rule } from './types.js';

export interface LoadConfigInput {
  env: Readonly<Record<string, string | undefined>>;
  /** `--config PATH`; falls back to DFNS_ROTATOR_CONFIG. */
  configPath?: string | null;
  /** Overrides from CLI flags, same shape as the file (highest precedence). */
  flags?: RawConfig;
  /** Reads a file as UTF-8; throws (with `code`) when it cannot. */
  readFile: (path: string) => string;
  cwd: string;
  /** What the command about to run needs beyond the basics. */
  needs?: { server?: boolean };
}

/**
 * Builds the one validated config from defaults < file < environment < flags (bull-board's
 * precedence). Pure apart from `readFile`. Lists every problem at once, each naming its field.
 */
export function loadConfig(input: LoadConfigInput): Config {
  const problems: string[] = [];
  const configPath = input.configPath ?? input.env.DFNS_ROTATOR_CONFIG ?? null;
  const fromFile = configPath ? readConfigFile(resolve(input.cwd, configPath), input.readFile, problems) : {};
  const env = configFromEnv(input.env);
  problems.push(...env.problems);
  const fromEnv = validateRaw(env.raw, 'environment', problems, input.cwd);
  const fromFlags = validateRaw(input.flags ?? {}, 'command-line flags', problems, input.cwd);
  const raw = deepMerge(deepMerge(fromFile, fromEnv), fromFlags) as RawConfig;
  // A source that failed its shape check contributed nothing; checking requirements now would only
  // add consequences ("orgId required") of problems already listed.
  if (problems.length > 0) throw new ConfigError(problems);

  const ctx: Ctx = { problems, env: input.env, readFile: input.readFile };
  const config = build(raw, ctx, configPath ? resolve(input.cwd, configPath) : null, input);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

interface Ctx {
  problems: string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

function readConfigFile(path: string, readFile: (p: string) => string, problems: string[]): RawConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push(`config file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    problems.push(`config file ${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  return validateRaw(parsed, `config file ${path}`, problems, dirname(path));
}

/** Checks the shape, and makes file references absolute relative to where they were written. */
function validateRaw(raw: unknown, source: string, problems: string[], baseDir: string): RawConfig {
  const result = rawConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join('.') || '(top level)';
      // From the environment, name the variable to fix, not just "the environment".
      const where = source === 'environment' ? envSourceOf(issue.path.map(String)) : source;
      problems.push(`${path}: ${issue.message} (in ${where})`);
    }
    return {};
  }
  return absolutizeFileRefs(result.data, baseDir);
}

/** `DFNS_ROTATOR_PORT` for `server.port`: the variable that set the path (or its nearest parent). */
function envSourceOf(path: readonly string[]): string {
  for (let n = path.length; n > 0; n--) {
    const names = envNamesFor(path.slice(0, n).join('.'));
    if (names.length > 0) return names.join(' / ');
  }
  return 'environment';
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    // A secret reference replaces the lower layer's whole reference ({file} over {env}).
    if (isSecretRef(over)) return over;
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return over;
}

function isSecretRef(v: object): boolean {
  const keys = Object.keys(v);
  // The value must be a string: a layer holding only the `store` section (`{store: {kind}}`) is no reference.
  return keys.length === 1 && ['file', 'env', 'store'].includes(keys[0]!) && typeof (v as Record<string, unknown>)[keys[0]!] === 'string';
}

/** Dfns organisation ids: `or-` then lowercase letters, digits and dashes (e.g. `or-yanke-mars-6ulofamogg84s87v`). */
const DFNS_ORG_ID = /^or-[A-Za-z0-9][A-Za-z0-9-]{0,126}$/;


function resolveKeySource(ref: SecretRef, path: string, ctx: Ctx, check: (v: SecretValue) => string | null): KeySource | null {
  if ('store' in ref) return { kind: 'store', secretName: ref.store };
  const value = resolveSecret(ref, path, ctx);
  if (!value) return null;
  const problem = check(value);
  if (problem) {
    ctx.problems.push(`${path} (${value.source}): ${problem}`);
    return null;
  }
  return { kind: 'value', value };
}

function checkPrivateKey(v: SecretValue): string | null {
  const pem = v.reveal();
  if (!pem.includes('-----BEGIN')) return 'not a PEM private key';
  try {
    const key = createPrivateKey(pem);
    return key.type === 'private' ? null : 'not a private key';
  } catch (err) {
    const msg = (err as Error).message;
    return /passphrase|encrypted/i.test(msg) ? 'the key is encrypted; give an unencrypted PEM (protect the file instead)' : 'not a readable PEM private key';
  }
}

function checkJwt(v: SecretValue): string | null {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(v.reveal()) ? null : 'not a Dfns access token (expected a JWT: three base64url parts)';
}


function build(raw: RawConfig, ctx: Ctx, file: string | null, input: LoadConfigInput): Config {
  const p = ctx.problems;
  const orgId = raw.dfns?.orgId;
  if (!orgId) p.push(`dfns.orgId: required${hint('dfns.orgId')}`);
  else if (!DFNS_ORG_ID.test(orgId)) {
    p.push(`dfns.orgId: ${JSON.stringify(orgId.slice(0, 60))} is not a Dfns organisation id; they start with "or-", like or-30tnh-itmjs-s235s5ontr3r23h2${hint('dfns.orgId')}`);
  }

  const operator = buildOperator(raw, ctx);
  const watcherRef = raw.watcher?.token;
  const watcher = watcherRef ? resolveKeySource(watcherRef, 'watcher.token', ctx, checkJwt) : null;
  if (!raw.operator && !watcherRef) {
    p.push('identity: configure an operator (operator.username, operator.credId, operator.privateKey) to rotate, or a watcher token (watcher.token) to only watch; see README "Identities"');
  }

  const warnDays = raw.thresholds?.warnDays ?? [...DEFAULTS.warnDays];
  for (let i = 1; i < warnDays.length; i++) {
    if (warnDays[i]! >= warnDays[i - 1]!) {
      p.push(`thresholds.warnDays: must be strictly decreasing, e.g. [30, 14, 7, 3, 1]; got [${warnDays.join(', ')}]`);
      break;
    }
  }
  const rotateBeforeDays = raw.thresholds?.rotateBeforeDays ?? DEFAULTS.rotateBeforeDays;
  const assumedDays = raw.assumedLifetime?.defaultDays ?? DEFAULTS.assumedLifetimeDays;
  if (rotateBeforeDays >= assumedDays) {
    p.push(`thresholds.rotateBeforeDays: ${rotateBeforeDays} must be less than assumedLifetime.defaultDays (${assumedDays}), or every credential would always be due`);
  }

  const rules: Rule[] = (raw.rules ?? []).map((r) => ({ ...r, keyAlgorithm: r.keyAlgorithm as KeyAlgorithm | undefined }));
  const defaultStrategy = raw.rotation?.defaultStrategy ?? 'replace';
  const rekeyFallback = raw.rotation?.rekeyFallback ?? 'notify';
  const overlapHours = raw.rotation?.overlapHours ?? DEFAULTS.overlapHours;
  const maxOverlapHours = raw.rotation?.maxOverlapHours ?? Math.max(DEFAULTS.maxOverlapHours, overlapHours);
  if (maxOverlapHours < overlapHours) p.push(`rotation.maxOverlapHours: ${maxOverlapHours} is shorter than rotation.overlapHours (${overlapHours}); it is the longest an old credential still in use is kept, so at least the overlap`);
  const usesReplace = defaultStrategy === 'replace' || rekeyFallback === 'replace' || rules.some((r) => r.strategy === 'replace' || r.rekeyFallback === 'replace');
  if (usesReplace && !raw.operator) {
    p.push(`rotation: strategy "replace" creates credentials, which only an org user can do: configure operator.*, or set rotation.defaultStrategy to "notify" (DFNS_ROTATOR_DEFAULT_STRATEGY=notify) and use no "replace" rules`);
  }

  const scan = raw.schedule?.scan ?? DEFAULTS.scan;
  const cron = validateDetailed(scan);
  if (!cron.valid) {
    p.push(`schedule.scan: invalid cron expression ${JSON.stringify(scan)}: ${cron.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
  const timezone = raw.schedule?.timezone ?? null;
  if (timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      p.push(`schedule.timezone: unknown time zone ${JSON.stringify(timezone)} (use an IANA name like Europe/Paris)`);
    }
  }

  const store = buildStoreConfig(raw.store, {
    problems: p,
    cwd: input.cwd,
    resolveSecret: (ref, path) => resolveSecret(ref, path, ctx),
    checkStoreKey,
    hint,
  });

  const webhookRef = raw.slack?.webhookUrl;
  const webhookUrl = webhookRef ? resolveSecret(webhookRef, 'slack.webhookUrl', ctx) : null;
  const allowAnyHost = raw.slack?.allowAnyHost ?? false;
  const webhookProblem = webhookUrl && webhookUrlProblem(webhookUrl.reveal(), { allowAnyHost });
  if (webhookUrl && webhookProblem) p.push(`slack.webhookUrl (${webhookUrl.source}): ${webhookProblem}`);

  const redis = buildRedis(raw, ctx);
  const server = buildServer(raw, ctx, input.needs?.server ?? false);

  return {
    source: { file },
    dfns: {
      baseUrl: (raw.dfns?.baseUrl ?? DEFAULTS.baseUrl).replace(/\/+$/, ''),
      orgId: orgId ?? '',
      requestsPerMinute: raw.dfns?.requestsPerMinute ?? DEFAULTS.requestsPerMinute,
      timeoutMs: raw.dfns?.timeoutMs ?? DEFAULTS.timeoutMs,
      maxAttempts: raw.dfns?.maxAttempts ?? DEFAULTS.maxAttempts,
    },
    operator,
    watcher: watcher ? { token: watcher } : null,
    store,
    thresholds: { warnDays, rotateBeforeDays },
    assumedLifetime: { defaultDays: assumedDays },
    rotation: {
      defaultStrategy,
      rekeyFallback,
      overlapHours,
      usageCheck: raw.rotation?.usageCheck ?? 'audit-log',
      usageGraceMinutes: raw.rotation?.usageGraceMinutes ?? DEFAULTS.usageGraceMinutes,
      maxOverlapHours,
      archiveAfterHours: raw.rotation?.archiveAfterHours ?? DEFAULTS.archiveAfterHours,
      keyAlgorithm: (raw.rotation?.keyAlgorithm as KeyAlgorithm | undefined) ?? DEFAULTS.keyAlgorithm,
      daysValid: raw.rotation?.daysValid ?? null,
      maxKeyAgeDays: raw.rotation?.maxKeyAgeDays ?? null,
      concurrency: raw.rotation?.concurrency ?? defaultRotateConcurrency(raw.dfns?.requestsPerMinute ?? DEFAULTS.requestsPerMinute),
    },
    rules,
    slack: { webhookUrl, allowAnyHost, dashboardUrl: raw.slack?.dashboardUrl ?? null, digest: raw.slack?.digest ?? 'daily', warningsPerScan: raw.slack?.warningsPerScan ?? DEFAULTS.warningsPerScan },
    schedule: { scan, timezone },
    redis,
    server,
    audit: { file: raw.audit?.file ?? null },
    log: { level: raw.log?.level ?? DEFAULTS.logLevel },
  };
}

function buildOperator(raw: RawConfig, ctx: Ctx): Config['operator'] {
  const op = raw.operator;
  if (!op) return null;
  const missing = (['username', 'credId', 'privateKey'] as const).filter((k) => !op[k]);
  for (const k of missing) ctx.problems.push(`operator.${k}: required when an operator is configured${hint(`operator.${k}`)}`);
  const key = op.privateKey ? resolveKeySource(op.privateKey, 'operator.privateKey', ctx, checkPrivateKey) : null;
  if (missing.length > 0 || !key) return null;
  return { username: op.username!, credId: op.credId!, privateKey: key };
}

function buildRedis(raw: RawConfig, ctx: Ctx): RedisSettings {
  const r = raw.redis ?? {};
  const prefix = r.prefix ?? DEFAULTS.redisPrefix;
  const modes = [r.url && 'url', r.sentinel && 'sentinel', r.cluster && 'cluster'].filter(Boolean);
  if (modes.length > 1) ctx.problems.push(`redis: choose one of url, sentinel, cluster (got ${modes.join(', ')})`);
  if (r.cluster) {
    if (!/^\{[^}]+\}/.test(prefix)) {
      ctx.problems.push(`redis.prefix: with a Redis Cluster the prefix must start with a hash tag like "{dfns-rotator}" so each queue's keys share a slot`);
    }
    const password = r.cluster.password ? resolveSecret(r.cluster.password, 'redis.cluster.password', ctx) ?? undefined : undefined;
    return { kind: 'cluster', nodes: r.cluster.nodes, password, prefix };
  }
  if (r.sentinel) {
    const password = r.sentinel.password ? resolveSecret(r.sentinel.password, 'redis.sentinel.password', ctx) ?? undefined : undefined;
    return { kind: 'sentinel', name: r.sentinel.name, sentinels: r.sentinel.sentinels, password, prefix };
  }
  return { kind: 'url', url: r.url ?? DEFAULTS.redisUrl, prefix };
}

function buildServer(raw: RawConfig, ctx: Ctx, needed: boolean): Config['server'] {
  const s = raw.server ?? {};
  const enabled = s.enabled ?? true;
  let auth: DashboardAuth | null = null;
  const a = s.auth;
  if (a?.token && (a.username || a.password)) {
    ctx.problems.push('server.auth: use either a token or a username and password, not both');
  } else if (a?.token) {
    const token = resolveSecret(a.token, 'server.auth.token', ctx);
    if (token && token.reveal().length < 16) ctx.problems.push(`server.auth.token (${token.source}): too short; use at least 16 random characters`);
    else if (token) auth = { kind: 'token', token };
  } else if (a?.username || a?.password) {
    if (!a.username) ctx.problems.push(`server.auth.username: required with a password${hint('server.auth.username')}`);
    if (!a.password) ctx.problems.push(`server.auth.password: required with a username${hint('server.auth.password')}`);
    const password = a.password ? resolveSecret(a.password, 'server.auth.password', ctx) : null;
    if (password && password.reveal().length < 12) ctx.problems.push(`server.auth.password (${password.source}): too short; use at least 12 characters`);
    else if (a.username && password) auth = { kind: 'basic', username: a.username, password };
  }
  if (needed && enabled && !auth && !a) {
    ctx.problems.push('server.auth: the dashboard can trigger rotations, so it needs credentials and has no default password: set DFNS_ROTATOR_DASHBOARD_TOKEN (or server.auth.token), or disable it with server.enabled: false');
  }
  return { enabled, host: s.host ?? DEFAULTS.host, port: s.port ?? DEFAULTS.port, auth, secureCookies: s.secureCookies ?? false, trustProxy: s.trustProxy ?? false, allowedHosts: s.allowedHosts ?? [], credentialMetrics: s.credentialMetrics ?? 'alerting' };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof SecretValue) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
