import { z } from 'zod';
import { KEY_ALGORITHMS } from '../dfns/port.js';

/**
 * The raw config shape, shared by the file and the environment (env.ts builds the same shape).
 * Everything is optional here; defaults and cross-field requirements are applied in load.ts so
 * that every problem can be reported at once, with a hint naming the env var that sets it.
 */

export type SecretRef = { file: string } | { env: string } | { store: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function secretRef(what: string, allowStore: boolean) {
  const forms = allowStore ? '{ file: PATH }, { env: NAME } or { store: SECRET }' : '{ file: PATH } or { env: NAME }';
  return z.unknown().transform((value, ctx): SecretRef => {
    if (typeof value === 'string') {
      ctx.addIssue({ code: 'custom', message: `${what} must be referenced, never written into the config: use ${forms}` });
      return z.NEVER;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `expected ${forms}` });
      return z.NEVER;
    }
    const keys = Object.keys(value);
    const v = value as Record<string, unknown>;
    if (keys.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `expected exactly one of ${forms}, got keys ${keys.join(', ') || '(none)'}` });
      return z.NEVER;
    }
    if (typeof v.file === 'string' && v.file.length > 0) return { file: v.file };
    if (typeof v.env === 'string' && ENV_NAME.test(v.env)) return { env: v.env };
    if (allowStore && typeof v.store === 'string' && v.store.length > 0) return { store: v.store };
    ctx.addIssue({ code: 'custom', message: `expected ${forms}` });
    return z.NEVER;
  });
}

const positiveInt = z.number().int().positive();
const strategy = z.enum(['replace', 'rekey', 'notify']);

const matchSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    id: z.string().min(1).optional(),
    kind: z.enum(['service-account', 'pat']).optional(),
    secret: z.string().min(1).optional(),
  })
  .refine((m) => Object.keys(m).length > 0, { message: 'match needs at least one of name, id, kind, secret' });

export const ruleSchema = z.strictObject({
  match: matchSchema,
  strategy: strategy.optional(),
  /** What a `rekey` does when Dfns refuses it (403): fall back to `replace`, or only `notify`. */
  rekeyFallback: z.enum(['replace', 'notify']).optional(),
  /** Rotate when the key is older than this, even if the token is far from expiry. */
  maxKeyAgeDays: positiveInt.optional(),
  /** Lifetime of the replacement credential. 3650 is a sanity bound: the current Dfns reference documents no maximum (older docs: 730). */
  daysValid: z.number().int().min(1).max(3650).optional(),
  keyAlgorithm: z.enum(KEY_ALGORITHMS as [string, ...string[]]).optional(),
  /** Assumed lifetime of matching credentials whose token is not held. */
  assumedLifetimeDays: z.number().int().min(1).max(3650).optional(),
});

export const STORE_KINDS = ['file', 'vault', 'aws-secrets-manager'] as const;
export const VAULT_AUTH_METHODS = ['token', 'approle', 'kubernetes'] as const;

export const rawConfigSchema = z.strictObject({
  dfns: z
    .strictObject({
      baseUrl: z.url({ protocol: /^https?$/ }).optional(),
      orgId: z.string().min(1).optional(),
      requestsPerMinute: z.number().int().min(1).max(100_000).optional(),
      timeoutMs: z.number().int().min(100).max(300_000).optional(),
      maxAttempts: z.number().int().min(1).max(20).optional(),
    })
    .optional(),
  operator: z
    .strictObject({
      username: z.string().min(1).optional(),
      credId: z.string().min(1).optional(),
      privateKey: secretRef('a private key', true).optional(),
    })
    .optional(),
  watcher: z.strictObject({ token: secretRef('a token', true).optional() }).optional(),
  store: z
    .strictObject({
      kind: z.enum(STORE_KINDS).optional(),
      dir: z.string().min(1).optional(),
      key: secretRef('the store key', false).optional(),
      vault: z
        .strictObject({
          address: z.string().min(1).optional(),
          mount: z.string().min(1).max(200).optional(),
          pathPrefix: z.string().max(200).optional(),
          namespace: z.string().max(200).optional(),
          caFile: z.string().min(1).optional(),
          auth: z
            .strictObject({
              method: z.enum(VAULT_AUTH_METHODS).optional(),
              token: secretRef('a Vault token', false).optional(),
              roleId: z.string().min(1).optional(),
              secretId: secretRef('an AppRole secret id', false).optional(),
              role: z.string().min(1).optional(),
              jwtFile: z.string().min(1).optional(),
              mountPath: z.string().min(1).max(200).optional(),
            })
            .optional(),
        })
        .optional(),
      aws: z
        .strictObject({
          region: z.string().min(1).optional(),
          endpoint: z.string().min(1).optional(),
          kmsKeyId: z.string().min(1).optional(),
          namePrefix: z.string().max(200).optional(),
        })
        .optional(),
    })
    .optional(),
  thresholds: z
    .strictObject({
      warnDays: z.array(positiveInt).min(1).max(20).optional(),
      rotateBeforeDays: positiveInt.optional(),
    })
    .optional(),
  assumedLifetime: z.strictObject({ defaultDays: z.number().int().min(1).max(3650).optional() }).optional(),
  rotation: z
    .strictObject({
      defaultStrategy: strategy.optional(),
      rekeyFallback: z.enum(['replace', 'notify']).optional(),
      overlapHours: z.number().min(0).max(24 * 90).optional(),
      /** Before retiring, ask Dfns' audit log whether the old credential still signs. */
      usageCheck: z.enum(['audit-log', 'off']).optional(),
      /** Signed actions of the old credential this soon after promotion do not count (consumers in mid-switch). */
      usageGraceMinutes: z.number().min(0).max(24 * 60).optional(),
      /** An old credential still in use is kept at most this long after promotion; then a person decides. */
      maxOverlapHours: z.number().min(0).max(24 * 365).optional(),
      archiveAfterHours: z.number().min(0).max(24 * 365).optional(),
      keyAlgorithm: z.enum(KEY_ALGORITHMS as [string, ...string[]]).optional(),
      daysValid: z.number().int().min(1).max(3650).optional(),
      maxKeyAgeDays: positiveInt.optional(),
      /** Rotations (and retirements) run at once per daemon; default from the request budget. */
      concurrency: z.number().int().min(1).max(100).optional(),
    })
    .optional(),
  rules: z.array(ruleSchema).max(500).optional(),
  slack: z
    .strictObject({
      webhookUrl: secretRef('the webhook URL', false).optional(),
      /** Accept a webhook host other than Slack's (a relay; http only on loopback). */
      allowAnyHost: z.boolean().optional(),
      /** Link shown in messages. */
      dashboardUrl: z.url().optional(),
      /** A daily summary of every scan's counts (a heartbeat: silence means the worker stopped). */
      digest: z.enum(['daily', 'off']).optional(),
      /** Expiry warnings sent one by one per scan; the rest are grouped into one message. */
      warningsPerScan: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  schedule: z.strictObject({ scan: z.string().min(1).optional(), timezone: z.string().min(1).optional() }).optional(),
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, { message: 'must start with redis:// or rediss://' }).optional(),
      sentinel: z
        .strictObject({
          name: z.string().min(1),
          sentinels: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })).min(1),
          password: secretRef('a password', false).optional(),
        })
        .optional(),
      cluster: z
        .strictObject({
          nodes: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })).min(1),
          password: secretRef('a password', false).optional(),
        })
        .optional(),
      prefix: z.string().min(1).max(100).optional(),
    })
    .optional(),
  server: z
    .strictObject({
      enabled: z.boolean().optional(),
      host: z.string().min(1).optional(),
      /** Mark the session cookie Secure: set when people reach the dashboard through an HTTPS proxy. */
      secureCookies: z.boolean().optional(),
      /** Express `trust proxy` (true, a hop count, or addresses), so rate limits see the client behind the proxy. */
      trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string().min(1)]).optional(),
      /** Host names served besides the bind address and localhost (the DNS-rebinding guard checks `Host`). */
      allowedHosts: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or address, without scheme or path')).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** Per-credential series on /metrics: only what people alert on (default), or every credential. */
      credentialMetrics: z.enum(['alerting', 'all']).optional(),
      auth: z
        .strictObject({
          token: secretRef('the dashboard token', false).optional(),
          username: z.string().min(1).optional(),
          password: secretRef('the dashboard password', false).optional(),
        })
        .optional(),
    })
    .optional(),
  audit: z.strictObject({ file: z.string().min(1).optional() }).optional(),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional() }).optional(),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;
