import { describe, expect, it } from 'vitest';
import { RotatorError } from '../../src/errors.js';
import { storeUnwritableCode, STORE_UNWRITABLE_CODES } from '../../src/secrets/errors.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: write failed`), { code });
const adapterError = (code: string, retryable: boolean): RotatorError => new RotatorError(code, `${code} from the adapter`, { retryable });

describe('what says a store cannot take writes now (one list)', () => {
  it.each([
    ['a full disk', errno('ENOSPC'), 'ENOSPC'],
    ['a read-only file system', errno('EROFS'), 'EROFS'],
    ['a permission refusal, wrapped as a cause', new Error('write failed', { cause: errno('EACCES') }), 'EACCES'],
    ['AWS Secrets Manager out (not marked retryable)', adapterError('SECRET_STORE_UNAVAILABLE', false), 'SECRET_STORE_UNAVAILABLE'],
    ['IAM refusing the write', adapterError('SECRET_STORE_ACCESS', false), 'SECRET_STORE_ACCESS'],
    ['Vault unreachable, retryable', adapterError('VAULT_UNREACHABLE', true), 'VAULT_UNREACHABLE'],
    ['Vault 5xx, retryable', adapterError('VAULT_ERROR', true), 'VAULT_ERROR'],
    ['a Vault write not yet published, retryable', adapterError('VAULT_NOT_PUBLISHED', true), 'VAULT_NOT_PUBLISHED'],
    ['a Vault error not marked retryable (a refusal of this write)', adapterError('VAULT_ERROR', false), null],
    ['a compare-and-set conflict', adapterError('SECRET_CONFLICT', true), null],
    ['an errno that is not about writability', errno('ENOENT'), null],
    ['a cause five deep', [1, 2, 3, 4].reduce<Error>((e) => new Error('wrapped', { cause: e }), errno('ENOSPC')), null],
    ['not an error', 'ENOSPC', null],
  ])('%s', (_label, err, expected) => {
    expect(storeUnwritableCode(err)).toBe(expected);
  });

  it('names every code once, with its rule', () => {
    expect([...STORE_UNWRITABLE_CODES.keys()].sort()).toEqual(
      ['EACCES', 'EDQUOT', 'ENOSPC', 'EPERM', 'EROFS', 'SECRET_STORE_ACCESS', 'SECRET_STORE_UNAVAILABLE', 'VAULT_ERROR', 'VAULT_NOT_PUBLISHED', 'VAULT_UNREACHABLE'],
    );
  });
});
