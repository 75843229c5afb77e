/**
 * Environment variables and the config path each one sets. One table, so the README's reference,
 * the error hints ("set DFNS_ORG_ID") and the parser cannot drift apart.
 */
export type EnvKind = 'string' | 'number' | 'list' | 'names' | 'bool' | 'secret-env' | 'secret-file';

export interface EnvVar {
  name: string;
  path: string;
  kind: EnvKind;
  help: string;
}

export const ENV_VARS: readonly EnvVar[] = [
  { name: 'DFNS_ROTATOR_CONFIG', path: '', kind: 'string', help: 'path of a YAML or JSON config file' },
  { name: 'DFNS_BASE_URL', path: 'dfns.baseUrl', kind: 'string', help: 'Dfns API base URL' },
  { name: 'DFNS_ORG_ID', path: 'dfns.orgId', kind: 'string', help: 'Dfns organisation id (or-…)' },
  { name: 'DFNS_REQUESTS_PER_MINUTE', path: 'dfns.requestsPerMinute', kind: 'number', help: 'client-side request budget per minute' },
  { name: 'DFNS_TIMEOUT_MS', path: 'dfns.timeoutMs', kind: 'number', help: 'timeout of one Dfns request' },
  { name: 'DFNS_OPERATOR_USERNAME', path: 'operator.username', kind: 'string', help: 'org user the worker logs in as' },
  { name: 'DFNS_OPERATOR_CRED_ID', path: 'operator.credId', kind: 'string', help: "the operator's Key credential id" },
  { name: 'DFNS_OPERATOR_PRIVATE_KEY', path: 'operator.privateKey', kind: 'secret-env', help: "the operator's private key PEM" },
  { name: 'DFNS_OPERATOR_PRIVATE_KEY_FILE', path: 'operator.privateKey', kind: 'secret-file', help: "file holding the operator's private key PEM" },
  { name: 'DFNS_WATCHER_TOKEN', path: 'watcher.token', kind: 'secret-env', help: 'read-only service-account token for listing' },
  { name: 'DFNS_WATCHER_TOKEN_FILE', path: 'watcher.token', kind: 'secret-file', help: 'file holding the watcher token' },
  { name: 'DFNS_ROTATOR_STORE', path: 'store.kind', kind: 'string', help: 'secret store: file, vault or aws-secrets-manager' },
  { name: 'DFNS_ROTATOR_STORE_DIR', path: 'store.dir', kind: 'string', help: 'folder of the encrypted file store' },
  { name: 'DFNS_ROTATOR_STORE_KEY', path: 'store.key', kind: 'secret-env', help: 'file store key: 32 bytes, base64 or hex' },
  { name: 'DFNS_ROTATOR_STORE_KEY_FILE', path: 'store.key', kind: 'secret-file', help: 'file holding the file store key' },
  { name: 'VAULT_ADDR', path: 'store.vault.address', kind: 'string', help: 'Vault address, e.g. https://vault.internal:8200 (vault store)' },
  { name: 'VAULT_NAMESPACE', path: 'store.vault.namespace', kind: 'string', help: 'Vault Enterprise / HCP namespace (vault store)' },
  { name: 'VAULT_CACERT', path: 'store.vault.caFile', kind: 'string', help: "PEM file of the CA that signed Vault's TLS certificate (vault store)" },
  { name: 'VAULT_TOKEN', path: 'store.vault.auth.token', kind: 'secret-env', help: 'Vault token, for auth method token (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_MOUNT', path: 'store.vault.mount', kind: 'string', help: 'KV v2 mount (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_PATH_PREFIX', path: 'store.vault.pathPrefix', kind: 'string', help: 'path prefix of the secrets inside the mount (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_AUTH', path: 'store.vault.auth.method', kind: 'string', help: 'Vault auth method: token, approle or kubernetes (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_ROLE_ID', path: 'store.vault.auth.roleId', kind: 'string', help: 'AppRole role id (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_SECRET_ID_FILE', path: 'store.vault.auth.secretId', kind: 'secret-file', help: 'file holding the AppRole secret id (vault store)' },
  { name: 'DFNS_ROTATOR_VAULT_ROLE', path: 'store.vault.auth.role', kind: 'string', help: 'Kubernetes auth role (vault store)' },
  { name: 'AWS_REGION', path: 'store.aws.region', kind: 'string', help: 'AWS region of Secrets Manager (aws-secrets-manager store)' },
  { name: 'AWS_ENDPOINT_URL_SECRETS_MANAGER', path: 'store.aws.endpoint', kind: 'string', help: 'Secrets Manager endpoint override, e.g. a VPC endpoint (aws-secrets-manager store)' },
  { name: 'DFNS_ROTATOR_AWS_KMS_KEY_ID', path: 'store.aws.kmsKeyId', kind: 'string', help: 'KMS key that encrypts new secrets (aws-secrets-manager store; default: aws/secretsmanager)' },
  { name: 'DFNS_ROTATOR_AWS_NAME_PREFIX', path: 'store.aws.namePrefix', kind: 'string', help: 'prefix of the secret names (aws-secrets-manager store)' },
  { name: 'DFNS_ROTATOR_WARN_DAYS', path: 'thresholds.warnDays', kind: 'list', help: 'notify thresholds in days, e.g. 30,14,7,3,1' },
  { name: 'DFNS_ROTATOR_ROTATE_BEFORE_DAYS', path: 'thresholds.rotateBeforeDays', kind: 'number', help: 'rotate this many days before expiry' },
  { name: 'DFNS_ROTATOR_ASSUMED_LIFETIME_DAYS', path: 'assumedLifetime.defaultDays', kind: 'number', help: 'lifetime assumed when the token is not held' },
  { name: 'DFNS_ROTATOR_DEFAULT_STRATEGY', path: 'rotation.defaultStrategy', kind: 'string', help: 'replace, rekey or notify' },
  { name: 'DFNS_ROTATOR_REKEY_FALLBACK', path: 'rotation.rekeyFallback', kind: 'string', help: 'when Dfns refuses a rekey (403): replace or notify' },
  { name: 'DFNS_ROTATOR_OVERLAP_HOURS', path: 'rotation.overlapHours', kind: 'number', help: 'hours the old credential stays active after promotion' },
  { name: 'DFNS_ROTATOR_USAGE_CHECK', path: 'rotation.usageCheck', kind: 'string', help: 'before retiring, check Dfns\' audit log that the old credential no longer signs: audit-log or off' },
  { name: 'DFNS_ROTATOR_USAGE_GRACE_MINUTES', path: 'rotation.usageGraceMinutes', kind: 'number', help: 'minutes after promotion during which signing with the old credential does not count as use' },
  { name: 'DFNS_ROTATOR_MAX_OVERLAP_HOURS', path: 'rotation.maxOverlapHours', kind: 'number', help: 'longest the old credential stays active while still in use; then a person decides' },
  { name: 'DFNS_ROTATOR_ARCHIVE_AFTER_HOURS', path: 'rotation.archiveAfterHours', kind: 'number', help: 'hours between deactivating and archiving a replaced credential' },
  { name: 'DFNS_ROTATOR_ROTATE_CONCURRENCY', path: 'rotation.concurrency', kind: 'number', help: 'rotations (and retirements) run at once per daemon' },
  { name: 'DFNS_ROTATOR_KEY_ALGORITHM', path: 'rotation.keyAlgorithm', kind: 'string', help: 'key algorithm of new credentials' },
  { name: 'DFNS_ROTATOR_DIGEST', path: 'slack.digest', kind: 'string', help: 'daily summary of the scans (a heartbeat): daily or off' },
  { name: 'SLACK_WEBHOOK_URL', path: 'slack.webhookUrl', kind: 'secret-env', help: 'Slack incoming webhook URL' },
  { name: 'SLACK_WEBHOOK_URL_FILE', path: 'slack.webhookUrl', kind: 'secret-file', help: 'file holding the Slack webhook URL' },
  { name: 'DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST', path: 'slack.allowAnyHost', kind: 'bool', help: "accept a webhook host other than Slack's (a relay); plain http only on loopback" },
  { name: 'DFNS_ROTATOR_SCHEDULE', path: 'schedule.scan', kind: 'string', help: 'cron expression of the scan' },
  { name: 'DFNS_ROTATOR_TIMEZONE', path: 'schedule.timezone', kind: 'string', help: 'IANA time zone of the cron expression' },
  { name: 'REDIS_URL', path: 'redis.url', kind: 'string', help: 'redis:// or rediss:// URL' },
  { name: 'DFNS_ROTATOR_REDIS_PREFIX', path: 'redis.prefix', kind: 'string', help: 'BullMQ key prefix' },
  { name: 'DFNS_ROTATOR_HOST', path: 'server.host', kind: 'string', help: 'dashboard bind address' },
  { name: 'DFNS_ROTATOR_PORT', path: 'server.port', kind: 'number', help: 'dashboard port' },
  { name: 'DFNS_ROTATOR_ALLOWED_HOSTS', path: 'server.allowedHosts', kind: 'names', help: 'host names the dashboard answers to besides its bind address and localhost, comma-separated' },
  { name: 'DFNS_ROTATOR_SECURE_COOKIES', path: 'server.secureCookies', kind: 'bool', help: 'mark the dashboard session cookie Secure (behind an HTTPS proxy)' },
  { name: 'DFNS_ROTATOR_CREDENTIAL_METRICS', path: 'server.credentialMetrics', kind: 'string', help: 'per-credential /metrics series: alerting (managed, own and urgent credentials) or all' },
  { name: 'DFNS_ROTATOR_DASHBOARD_TOKEN', path: 'server.auth.token', kind: 'secret-env', help: 'bearer token for the dashboard' },
  { name: 'DFNS_ROTATOR_DASHBOARD_TOKEN_FILE', path: 'server.auth.token', kind: 'secret-file', help: 'file holding the dashboard token' },
  { name: 'DFNS_ROTATOR_DASHBOARD_USER', path: 'server.auth.username', kind: 'string', help: 'basic-auth user for the dashboard' },
  { name: 'DFNS_ROTATOR_DASHBOARD_PASSWORD', path: 'server.auth.password', kind: 'secret-env', help: 'basic-auth password for the dashboard' },
  { name: 'DFNS_ROTATOR_DASHBOARD_PASSWORD_FILE', path: 'server.auth.password', kind: 'secret-file', help: 'file holding the basic-auth password' },
  { name: 'DFNS_ROTATOR_AUDIT_FILE', path: 'audit.file', kind: 'string', help: 'append-only JSON-lines audit log (in addition to Redis)' },
  { name: 'LOG_LEVEL', path: 'log.level', kind: 'string', help: 'trace, debug, info, warn, error' },
];

/** The env vars that set a config path, for hints in error messages. */
export function envNamesFor(path: string): string[] {
  return ENV_VARS.filter((v) => v.path === path).map((v) => v.name);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * Turns the environment into a raw config object (same shape as the file). Type problems are
 * reported, not thrown, so every problem is listed at once.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): { raw: Record<string, unknown>; problems: string[] } {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  const setBy = new Map<string, string>();
  for (const v of ENV_VARS) {
    const value = env[v.name];
    if (value === undefined || value === '' || v.path === '') continue;
    const earlier = setBy.get(v.path);
    if (earlier) {
      problems.push(`${v.name}: ${earlier} already sets ${v.path}; set only one of them`);
      continue;
    }
    setBy.set(v.path, v.name);
    switch (v.kind) {
      case 'string':
        setPath(raw, v.path, value);
        break;
      case 'number': {
        const n = Number(value);
        if (!Number.isFinite(n)) problems.push(`${v.name}: expected a number, got ${JSON.stringify(value.slice(0, 40))}`);
        else setPath(raw, v.path, n);
        break;
      }
      case 'bool':
        if (!/^(true|false|1|0)$/i.test(value)) problems.push(`${v.name}: expected true or false`);
        else setPath(raw, v.path, /^(true|1)$/i.test(value));
        break;
      case 'list': {
        const items = value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
        if (items.some((n) => !Number.isFinite(n))) problems.push(`${v.name}: expected comma-separated numbers, got ${JSON.stringify(value.slice(0, 60))}`);
        else setPath(raw, v.path, items);
        break;
      }
      case 'names':
        setPath(raw, v.path, value.split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case 'secret-env':
        setPath(raw, v.path, { env: v.name });
        break;
      case 'secret-file':
        setPath(raw, v.path, { file: value });
        break;
    }
  }
  return { raw, problems };
}
