import type { Logger } from '../logger.js';
import { DfnsCreateOutcomeLostError } from './errors.js';

/**
 * The Key credential id of a credential just created, when the create answer does not say.
 *
 * Dfns' documented Create Service Account and Create PAT success examples carry
 * `accessTokens[0].credId: ""` (and `publicKey: ""`), while list examples carry a real one
 * (dfns-api.md §9; test/fixtures/dfns/). Storing `""` makes every later signature fail, so the
 * id is found before the create returns:
 *
 * 1. **The `allowCredentials.key` of a user-action challenge made with the new token.** Preferred:
 *    `POST /auth/action/init` needs only the bearer token, no permission, and every caller kind
 *    may make it (current reference); it is what the official signer itself checks a credId
 *    against (`AsymmetricKeySigner` throws unless its credId is in that list), and the
 *    documentation's own signing example takes `allowCredentials.key[0]` as the credId. A new
 *    service account or PAT has exactly one key, so one id is an unambiguous answer.
 * 2. **The record from a GET of the new credential** (by the creator), when the challenge offers
 *    no id or several (e.g. a PAT whose keys live on its owner's account: the owner's keys are
 *    offered too). The GET needs `Auth:ServiceAccounts:Read` for a service account, which is why
 *    it is second.
 *
 * If neither tells, the new credential cannot be used: it is reported as an orphan
 * (DfnsCreateOutcomeLostError), so the rotation engine deactivates and archives it and the
 * create runs again, exactly as for a create whose answer was lost. Nothing relies on it first.
 */
export interface CreatedCredIdInput {
  operation: string;
  recordKind: 'serviceAccount' | 'personalAccessToken';
  recordId: string;
  /** What the create answer said (`""` when nothing). */
  answered: string;
  /** Key credential ids offered to the new token. */
  offered: () => Promise<string[]>;
  /** The credId on the record a GET returns (`""` when none). */
  lookUp: () => Promise<string>;
  logger: Logger;
}

export async function resolveCreatedCredId(input: CreatedCredIdInput): Promise<string> {
  if (input.answered !== '') return input.answered;
  const problems: string[] = [];
  try {
    const offered = [...new Set(await input.offered())];
    if (offered.length === 1) return found(input, offered[0]!, 'user-action challenge');
    problems.push(`a user-action challenge with the new token offers ${offered.length} Key credentials`);
  } catch (err) {
    problems.push(`a user-action challenge with the new token failed (${codeOf(err)})`);
  }
  try {
    const credId = await input.lookUp();
    if (credId !== '') return found(input, credId, 'GET of the new record');
    problems.push('a GET of the new record shows no credId either');
  } catch (err) {
    problems.push(`a GET of the new record failed (${codeOf(err)})`);
  }
  const noun = input.recordKind === 'serviceAccount' ? 'service account' : 'personal access token';
  throw new DfnsCreateOutcomeLostError(
    `the ${noun} ${input.recordId} WAS created, but Dfns did not say which Key credential it signs with ` +
      `(credId "" in the create answer; ${problems.join('; ')}), so it cannot be used. ` +
      `The orphan ${input.recordId} must be deactivated and archived before creating again.`,
    { operation: input.operation, recordKind: input.recordKind, recordId: input.recordId },
  );
}

function found(input: CreatedCredIdInput, credId: string, how: string): string {
  input.logger.info({ operation: input.operation, recordId: input.recordId, how }, 'the create answer had no credId; found it another way');
  return credId;
}

function codeOf(err: unknown): string {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
}
