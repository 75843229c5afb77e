/**
 * The one validated configuration. `loadConfig` is pure apart from the `readFile` it is given:
 * only cli.ts passes it `process.env` and the real file system.
 */
export { loadConfig, type LoadConfigInput } from './config/load.js';
export { ENV_VARS, type EnvVar } from './config/env.js';
export { SecretValue } from './config/secret-value.js';
export { resolvePolicy, ruleMatches, type CredentialPolicy, type PolicySubject } from './config/policy.js';
export { DEFAULTS, type Config, type DashboardAuth, type KeySource, type RedisSettings, type Rule } from './config/types.js';
