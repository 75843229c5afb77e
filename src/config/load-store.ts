import { ConfigError } from '../errors.js';
import { configFromEnv } from './env.js';
import { absolutizeFileRefs, checkStoreKey, hint, resolveSecret } from './resolve-secret.js';
import { rawConfigSchema, type RawConfig } from './schema.js';
import { buildStoreConfig } from './store.js';
import type { StoreConfig } from './types.js';

/** The `store:` block of the config file: `{ kind, dir, key: { file } }`, `{ kind: 'vault', vault: {…} }`… */
export type StoreBlock = NonNullable<RawConfig['store']>;

export interface LoadStoreConfigInput {
  /** The store block, as in the daemon's config file. Omitted: from the environment (the daemon's variable names). */
  store?: unknown;
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
  cwd: string;
  /** Names the origin in messages: `rotatingDfnsClient options`. */
  source: string;
}

/**
 * Only the store part of the daemon's configuration, checked by the same schema and builder, for
 * consumers (the client helper, `secret sync`) that need nothing else. Throws `ConfigError`
 * listing every problem, naming the field.
 */
export function loadStoreConfig(input: LoadStoreConfigInput): StoreConfig {
  const problems: string[] = [];
  const rawStore = input.store !== undefined ? input.store : configFromEnv(input.env).raw.store;
  const source = input.store !== undefined ? input.source : 'environment';
  const parsed = rawConfigSchema.safeParse({ store: rawStore ?? {} });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || 'store'}: ${issue.message} (in ${source})`);
    throw new ConfigError(problems);
  }
  const store = absolutizeFileRefs(parsed.data.store, input.cwd);
  const ctx = { problems, env: input.env, readFile: input.readFile };
  const config = buildStoreConfig(store, { problems, cwd: input.cwd, resolveSecret: (ref, path) => resolveSecret(ref, path, ctx), checkStoreKey, hint });
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
