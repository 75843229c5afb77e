import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { systemClock } from '../../clock.js';
import { ConfigError } from '../../errors.js';
import { integerFlag, numberFlag, parseServerFlags } from '../../http/server-flags.js';
import type { PolicyRule } from './auth.js';
import { startVaultServer, type RunningVault } from './server.js';

/**
 * `dfns-rotator simulator vault [--port N] [--host H] [--token T] [--mount M] [--approle ROLE_ID:SECRET_ID]
 * [--kubernetes ROLE:JWT_FILE] [--latency MS] [--fault-rate 0..1]`: a local Vault (KV v2 at `secret/`) on
 * the real clock. `--kubernetes` accepts logins for ROLE with the JWT in JWT_FILE (there is no
 * cluster to ask), so the daemon's Kubernetes auth can be tried locally.
 * Without `--token` a random root token is generated and printed, as `vault server -dev` does.
 */
export const VAULT_SERVER_USAGE =
  'usage: npx dfns-rotator simulator vault [--port N] [--host 127.0.0.1] [--token T] [--mount secret] [--approle ROLE_ID:SECRET_ID] [--kubernetes ROLE:JWT_FILE] [--latency MS] [--fault-rate 0..1]';

const fullAccess = (): PolicyRule[] => [{ path: '*', capabilities: ['create', 'read', 'update', 'delete', 'list'] }];

export async function runVaultServerCli(argv: string[], io: { out(line: string): void }): Promise<RunningVault> {
  const values = parseServerFlags(
    argv,
    {
      port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, mount: { type: 'string', multiple: true },
      approle: { type: 'string' }, kubernetes: { type: 'string' }, latency: { type: 'string' }, 'fault-rate': { type: 'string' },
    },
    'simulator vault arguments',
    VAULT_SERVER_USAGE,
  );
  const problems: string[] = [];
  const port = integerFlag(values.port, 'port', 0, 65535, problems) ?? 0;
  const latency = numberFlag(values.latency, 'latency', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (ms)', problems) ?? 0;
  const faultRate = numberFlag(values['fault-rate'], 'fault-rate', (n) => n >= 0 && n <= 1, 'a number 0..1', problems) ?? 0;
  if (values.token !== undefined && values.token.trim() === '') problems.push('--token: must not be empty');
  let appRole: { roleId: string; secretId: string } | null = null;
  if (values.approle !== undefined) {
    const [roleId, secretId] = values.approle.split(':');
    if (!roleId || !secretId) problems.push('--approle: expected ROLE_ID:SECRET_ID');
    else appRole = { roleId, secretId };
  }
  let kubernetes: { role: string; jwt: string } | null = null;
  if (values.kubernetes !== undefined) {
    const at = values.kubernetes.indexOf(':');
    const role = at > 0 ? values.kubernetes.slice(0, at) : '';
    const file = at > 0 ? values.kubernetes.slice(at + 1) : '';
    if (!role || !file) problems.push('--kubernetes: expected ROLE:JWT_FILE');
    else {
      try {
        kubernetes = { role, jwt: (await readFile(file, 'utf8')).trim() };
      } catch (err) {
        problems.push(`--kubernetes: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError([...problems, VAULT_SERVER_USAGE], 'simulator vault arguments');

  const generated = values.token === undefined;
  const rootToken = values.token ?? `hvs.dev-${randomBytes(16).toString('base64url')}`;
  const vault = await startVaultServer({
    host: values.host ?? '127.0.0.1', port, rootToken, mounts: values.mount?.length ? values.mount : ['secret'], clock: systemClock,
    knobs: { latencyMs: latency, faultRate },
    ...(appRole ? { appRoles: [{ roleName: 'dfns-rotator', ...appRole, policies: fullAccess() }] } : {}),
    ...(kubernetes ? { kubernetesRoles: [{ ...kubernetes, policies: fullAccess() }] } : {}),
  });
  io.out(`Vault (local, KV v2 at ${(values.mount?.length ? values.mount : ['secret']).join(', ')}/) listening on ${vault.url}`);
  if (generated) io.out(`root token: ${rootToken} (development only; pass --token to choose one)`);
  if (appRole) io.out(`AppRole enabled at auth/approle for role id ${appRole.roleId}`);
  if (kubernetes) io.out(`Kubernetes auth enabled at auth/kubernetes for role ${kubernetes.role}`);
  return vault;
}
