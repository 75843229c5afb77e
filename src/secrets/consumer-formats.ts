import { toCredentialJson } from './credential-json.js';
import type { SecretVersion } from './types.js';

/**
 * What `secret get --format` and `secret sync` write for a service: the consumer credential JSON
 * (docs/credential.md), or environment variables under the names Dfns' own examples use.
 *   env     POSIX shell, for `source` / `eval`: `export NAME='value'`; single quotes keep the PEM's
 *           line breaks and make every other character literal (a `'` is written `'\''`).
 *   dotenv  `.env` files (dotenv, docker compose `env_file`, systemd-style loaders that unquote):
 *           `NAME="value"`, line breaks written `\n`, `\` and `"` escaped.
 */
export const CONSUMER_FORMATS = ['json', 'env', 'dotenv'] as const;
export type ConsumerFormat = (typeof CONSUMER_FORMATS)[number];

/** Dfns' example names (its SDK examples' .env files), in the order a reader expects. */
export const DFNS_ENV_NAMES = ['DFNS_API_URL', 'DFNS_ORG_ID', 'DFNS_AUTH_TOKEN', 'DFNS_CRED_ID', 'DFNS_PRIVATE_KEY'] as const;

export function isConsumerFormat(value: string): value is ConsumerFormat {
  return (CONSUMER_FORMATS as readonly string[]).includes(value);
}

/** The file/stdout text of a version, ending with a newline. Holds secrets: never log it. */
export function renderCredential(version: SecretVersion, format: ConsumerFormat): string {
  const v = version.value;
  if (format === 'json') return `${JSON.stringify(toCredentialJson(v, { ...version.metadata, versionId: version.versionId }))}\n`;
  const values: Record<(typeof DFNS_ENV_NAMES)[number], string> = {
    DFNS_API_URL: v.baseUrl,
    DFNS_ORG_ID: v.orgId,
    DFNS_AUTH_TOKEN: v.accessToken ?? '',
    DFNS_CRED_ID: v.credId,
    DFNS_PRIVATE_KEY: v.privateKeyPem.trimEnd(),
  };
  const quote = format === 'env' ? shellQuote : dotenvQuote;
  const prefix = format === 'env' ? 'export ' : '';
  return DFNS_ENV_NAMES.map((name) => `${prefix}${name}=${quote(values[name])}\n`).join('');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function dotenvQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
