import type { KeyAlgorithm } from '../dfns/port.js';
import { DEFAULT_REQUESTS_PER_MINUTE } from '../dfns/rate-limiter.js';
import type { CredentialKind, Strategy } from '../model.js';
import type { SecretValue } from './secret-value.js';

/** A secret resolved at start-up, or one that lives in the secret store and is read when needed. */
export type KeySource = { kind: 'value'; value: SecretValue } | { kind: 'store'; secretName: string };

export interface Rule {
  match: { name?: string; id?: string; kind?: CredentialKind; secret?: string };
  strategy?: Strategy;
  rekeyFallback?: 'replace' | 'notify';
  maxKeyAgeDays?: number;
  daysValid?: number;
  keyAlgorithm?: KeyAlgorithm;
  assumedLifetimeDays?: number;
}

export type RedisSettings =
  | { kind: 'url'; url: string; prefix: string }
  | { kind: 'sentinel'; name: string; sentinels: { host: string; port: number }[]; password?: SecretValue; prefix: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; password?: SecretValue; prefix: string };

/** Where managed credentials live: `store.kind`. Secrets stay `SecretValue`s until an adapter needs them. */
export type StoreConfig = FileStoreConfig | VaultStoreConfig | AwsStoreConfig;

export interface FileStoreConfig {
  kind: 'file';
  dir: string;
  key: SecretValue;
}

export type VaultAuthConfig =
  | { method: 'token'; token: SecretValue }
  | { method: 'approle'; roleId: string; secretId: SecretValue; mountPath: string }
  | { method: 'kubernetes'; role: string; jwtFile: string; mountPath: string };

export interface VaultStoreConfig {
  kind: 'vault';
  /** e.g. `https://vault.internal:8200`, no trailing slash. */
  address: string;
  /** KV v2 mount, default `secret`. */
  mount: string;
  /** Prefix of every secret path inside the mount, default `dfns-rotator/` (may be empty). */
  pathPrefix: string;
  namespace: string | null;
  caFile: string | null;
  auth: VaultAuthConfig;
}

export interface AwsStoreConfig {
  kind: 'aws-secrets-manager';
  region: string;
  /** Endpoint override (a VPC endpoint, or a local server); null: the SDK's default. */
  endpoint: string | null;
  /** KMS key for new secrets; null: the account's `aws/secretsmanager` key. */
  kmsKeyId: string | null;
  /** Prefix of every secret name, default `dfns-rotator/` (may be empty). */
  namePrefix: string;
}

export type DashboardAuth =
  | { kind: 'token'; token: SecretValue }
  | { kind: 'basic'; username: string; password: SecretValue };

/** The one validated, frozen configuration. Secrets inside are `SecretValue`s that refuse to print. */
export interface Config {
  /** Where the file came from, if any. */
  source: { file: string | null };
  dfns: { baseUrl: string; orgId: string; requestsPerMinute: number; timeoutMs: number; maxAttempts: number };
  operator: { username: string; credId: string; privateKey: KeySource } | null;
  watcher: { token: KeySource } | null;
  store: StoreConfig;
  thresholds: { warnDays: number[]; rotateBeforeDays: number };
  assumedLifetime: { defaultDays: number };
  rotation: {
    defaultStrategy: Strategy;
    rekeyFallback: 'replace' | 'notify';
    overlapHours: number;
    usageCheck: 'audit-log' | 'off';
    usageGraceMinutes: number;
    maxOverlapHours: number;
    archiveAfterHours: number;
    keyAlgorithm: KeyAlgorithm;
    /** Lifetime of new credentials; null: the same lifetime as the credential replaced (else 365 days, so a replacement is always dated). */
    daysValid: number | null;
    maxKeyAgeDays: number | null;
    /** Rotate and retire jobs run at once per daemon (default: from the request budget, see defaultRotateConcurrency). */
    concurrency: number;
  };
  rules: Rule[];
  slack: { webhookUrl: SecretValue | null; allowAnyHost: boolean; dashboardUrl: string | null; digest: 'daily' | 'off'; warningsPerScan: number };
  schedule: { scan: string; timezone: string | null };
  redis: RedisSettings;
  server: {
    enabled: boolean;
    host: string;
    port: number;
    auth: DashboardAuth | null;
    secureCookies: boolean;
    trustProxy: boolean | number | string;
    allowedHosts: string[];
    /** `alerting`: an expiry series for managed, own and urgent credentials only, counts for the rest; `all`: one for every credential. */
    credentialMetrics: 'alerting' | 'all';
  };
  audit: { file: string | null };
  log: { level: string };
}

/**
 * Rotations per daemon at once, from the request budget: a rotation's six requests take a few
 * seconds of Dfns latency, key generation and store writes, so at a 200/min budget (33 rotations
 * a minute at most) four at once keep the budget busy; more would only wait on it, holding their
 * job locks. Between 2 and 16.
 */
export function defaultRotateConcurrency(requestsPerMinute: number): number {
  return Math.max(2, Math.min(16, Math.ceil(requestsPerMinute / 50)));
}

export const DEFAULTS = {
  baseUrl: 'https://api.dfns.io',
  /**
   * The daemons' share of the org's Dfns limit (1000/min, 100 on trial orgs), which the
   * customer's own applications use too: see DEFAULT_REQUESTS_PER_MINUTE in src/dfns/rate-limiter.ts.
   */
  requestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE,
  timeoutMs: 15_000,
  maxAttempts: 6,
  warnDays: [30, 14, 7, 3, 1],
  rotateBeforeDays: 14,
  /**
   * An assumption, shown as an estimate: the older docs' maximum daysValid. The current Dfns
   * reference documents neither a default nor a maximum.
   */
  assumedLifetimeDays: 730,
  overlapHours: 24,
  usageGraceMinutes: 15,
  maxOverlapHours: 24 * 7,
  archiveAfterHours: 24 * 7,
  keyAlgorithm: 'ecdsa-p256' as KeyAlgorithm,
  /** Hourly, off the top of the hour. */
  scan: '17 * * * *',
  redisUrl: 'redis://127.0.0.1:6379',
  /** A hash tag, so every BullMQ key of one queue lands on the same Redis Cluster slot. */
  redisPrefix: '{dfns-rotator}',
  host: '127.0.0.1',
  port: 8730,
  storeDir: './data/secrets',
  vaultMount: 'secret',
  vaultPathPrefix: 'dfns-rotator/',
  vaultAppRoleMount: 'approle',
  vaultKubernetesMount: 'kubernetes',
  /** Where Kubernetes mounts a pod's service-account token. */
  vaultKubernetesJwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  awsNamePrefix: 'dfns-rotator/',
  logLevel: 'info',
  /** Expiry warnings sent one by one per scan (Slack paces at one message a second); the rest go in one message. */
  warningsPerScan: 20,
} as const;
