/**
 * The one validated configuration. `loadConfig` is pure apart from the `readFile` it is given:
 * only cli.ts passes it `process.env` and the real file system.
 */
export { loadConfig, type LoadConfigInput } from './load.js';
export { ENV_VARS, type EnvVar } from './env.js';
export { SecretValue } from './secret-value.js';
export { resolvePolicy, ruleMatches, type CredentialPolicy, type PolicySubject } from './policy.js';
export { DEFAULTS, type Config, type DashboardAuth, type KeySource, type RedisSettings, type Rule } from './types.js';
