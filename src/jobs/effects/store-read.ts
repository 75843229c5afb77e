import { cliCommand } from '../../cli-name.js';
import { describeError, errorCode } from '../../errors.js';
import type { DamagedSecret } from '../../model.js';
import type { SecretStore, SecretSummary } from '../../secrets/types.js';

/**
 * The scan's read of the store: everything readable, and each secret that is not (a damaged
 * file, data the key does not open) as a `DamagedSecret` with its recovery step. One bad file
 * must not leave every other credential unwatched. Until it is repaired, the credential it held
 * shows up as unmanaged (the join finds no stored token for it), and is not rotated.
 */
export async function readStoreTolerantly(store: Pick<SecretStore, 'list' | 'listReadable'>): Promise<{ summaries: SecretSummary[]; damaged: DamagedSecret[] }> {
  if (!store.listReadable) return { summaries: await store.list(), damaged: [] };
  const { summaries, unreadable } = await store.listReadable();
  return {
    summaries,
    damaged: unreadable.map((u) => ({ secretName: u.name, where: u.where, problem: describeError(u.error), action: recoveryStep(u.name, errorCode(u.error)) })),
  };
}

function recoveryStep(secretName: string, code: string | undefined): string {
  const why = code === 'SECRET_KEY_MISMATCH' ? 'it does not open with the configured store key (modified, or written under another key)' : 'its data is damaged';
  return (
    `${why}: restore this secret's file from a backup of the store folder; without one, adopt the credential again ` +
    `(\`${cliCommand('adopt', '--secret', secretName, '--replace', '--kind', 'service-account', '--token-file', 'TOKEN_FILE', '--key-file', 'KEY_FILE')}\`, --kind pat for a PAT), ` +
    'or rotate it by hand in Dfns. Until then the credential it holds is watched as unmanaged and not rotated.'
  );
}
