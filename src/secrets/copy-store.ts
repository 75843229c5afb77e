import { SecretConflictError } from './errors.js';
import type { SecretStore, SecretVersion, Stage } from './types.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Copies every managed secret, whole (every version with its stage labels), from one store to
 * another: how a team moves from the file store to Vault or AWS. A secret that already exists in
 * the target is left alone unless `replace` is set; one whose versions are already identical is
 * reported unchanged. Each write is the target's compare-and-set, so a daemon writing the target
 * meanwhile makes that secret fail (reported), never silently lose a write.
 */

export type CopyAction = 'copied' | 'replaced' | 'unchanged' | 'skipped' | 'failed';

export interface CopyOutcome {
  name: string;
  action: CopyAction;
  /** What was (or would be) written: ids and labels only. */
  versions: { versionId: number; stages: Stage[] }[];
  /** Why it was skipped or failed; no secret values. */
  reason?: string;
  /** A rotation was in flight in the source (a pending version was copied). */
  pending: boolean;
}

export interface CopyOptions {
  replace: boolean;
  /** Decide and report, write nothing. */
  dryRun: boolean;
  /** Only these names (default: every secret in the source). */
  names?: readonly string[];
}

export async function copySecrets(from: Pick<SecretStore, 'list' | 'get'>, to: Pick<SecretStore, 'get' | 'put'>, options: CopyOptions): Promise<CopyOutcome[]> {
  const names = options.names ?? (await from.list()).map((s) => s.name);
  const outcomes: CopyOutcome[] = [];
  for (const name of names) {
    const source = await from.get(name);
    if (!source) {
      outcomes.push({ name, action: 'failed', versions: [], reason: 'not in the source store', pending: false });
      continue;
    }
    const versions = source.versions;
    const summary = versions.map((v) => ({ versionId: v.versionId, stages: [...v.stages] }));
    const pending = versions.some((v) => v.stages.includes('pending'));
    try {
      const existing = await to.get(name);
      if (existing && sameVersions(existing.versions, versions)) {
        outcomes.push({ name, action: 'unchanged', versions: summary, pending });
        continue;
      }
      if (existing && !options.replace) {
        outcomes.push({ name, action: 'skipped', versions: summary, reason: 'exists in the target with other versions (pass --replace to overwrite it)', pending });
        continue;
      }
      if (!options.dryRun) await to.put(name, versions, existing?.revision ?? null);
      outcomes.push({ name, action: existing ? 'replaced' : 'copied', versions: summary, pending });
    } catch (err) {
      const reason = err instanceof SecretConflictError ? 'changed in the target while copying (is a daemon running against it?); run the copy again' : (err as Error).message;
      outcomes.push({ name, action: 'failed', versions: summary, reason, pending });
    }
  }
  return outcomes;
}

function sameVersions(a: readonly SecretVersion[], b: readonly SecretVersion[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
