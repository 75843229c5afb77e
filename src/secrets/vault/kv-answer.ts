import { SecretCorruptError } from '../errors.js';
import type { VaultAnswer } from './http.js';

/** Reading KV v2 answers: the one place that knows the version field and Vault's CAS wording. */

export function versionOf(metadata: unknown, path: string): number {
  const v = (metadata as { version?: unknown } | undefined)?.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new SecretCorruptError(`vault ${path}`, 'the answer carries no version number');
  return v;
}

/** Vault's answer to a write whose `options.cas` is not the current version. */
export function isCasMismatch(answer: VaultAnswer): boolean {
  return answer.status === 400 && answer.errors.some((e) => /check-and-set parameter did not match the current version/.test(e));
}
