import { randomBytes } from 'node:crypto';
import { SecretNameError } from './errors.js';
import { SECRET_NAME_PATTERN } from './types.js';

/**
 * How secret names map to files in one flat folder. `/` becomes `~`, a character names cannot
 * contain, so the mapping is one-to-one and no path separator ever reaches the file system; the
 * result is at most 200 characters, well inside NAME_MAX (255) even with the temp suffix.
 *
 *   payments/api-bot   ->  payments~api-bot.secret          (data)
 *                          .payments~api-bot.lock           (write lock)
 *                          .payments~api-bot.<12 hex>.tmp   (a write in progress, or a crash leftover)
 *
 * Data files never start with a dot (names start with a letter or digit), so helper files can
 * never be mistaken for data. On a case-insensitive file system `A` and `a` share a file; the
 * authenticated name in each file makes that a refused read, never a silent mix-up.
 */

export const DATA_SUFFIX = '.secret';

export function checkSecretName(name: string): void {
  if (!isSecretName(name)) throw new SecretNameError(String(name));
}

export function fileBase(name: string): string {
  checkSecretName(name);
  return name.replaceAll('/', '~');
}

export const dataFileName = (name: string): string => `${fileBase(name)}${DATA_SUFFIX}`;
export const lockFileName = (name: string): string => `.${fileBase(name)}.lock`;
export const tempFileName = (name: string): string => `.${fileBase(name)}.${randomBytes(6).toString('hex')}.tmp`;

export type DirEntry =
  | { type: 'data'; name: string }
  | { type: 'temp'; name: string }
  | { type: 'lock'; name: string }
  | { type: 'other' };

const DATA_RE = /^([A-Za-z0-9][A-Za-z0-9._~-]*)\.secret$/;
const TEMP_RE = /^\.([A-Za-z0-9][A-Za-z0-9._~-]*)\.[0-9a-f]{12}\.tmp$/;
const LOCK_RE = /^\.([A-Za-z0-9][A-Za-z0-9._~-]*)\.lock$/;

/**
 * Classifies a file in the store folder. Files of other shapes (a README, an editor backup) are
 * `other` and ignored. A data-shaped file whose name is not a valid secret name (`a..b.secret`) is
 * still `data`, so listing fails loudly on it instead of skipping it.
 */
export function classifyEntry(file: string): DirEntry {
  const data = DATA_RE.exec(file);
  if (data) return { type: 'data', name: data[1]!.replaceAll('~', '/') };
  const temp = TEMP_RE.exec(file);
  if (temp) return { type: 'temp', name: temp[1]!.replaceAll('~', '/') };
  const lock = LOCK_RE.exec(file);
  if (lock) return { type: 'lock', name: lock[1]!.replaceAll('~', '/') };
  return { type: 'other' };
}

/** Whether `name` is a secret name (`checkSecretName` accepts it): for skipping entries a listing finds that are not ours. */
export function isSecretName(name: string): boolean {
  return typeof name === 'string' && SECRET_NAME_PATTERN.test(name);
}
