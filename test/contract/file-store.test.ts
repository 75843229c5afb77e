import { join } from 'node:path';
import { createSecretStore } from '../../src/secrets/index.js';
import { generateStoreKey } from '../../src/secrets/store-key.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { secretStoreContract } from './secret-store.contract.js';

secretStoreContract('file', async () => {
  const tmp = await makeTempDir();
  // a folder that does not exist yet: the store creates it
  const dir = join(tmp.path, 'secrets');
  const key = generateStoreKey();
  return {
    store: createSecretStore({ kind: 'file', dir, key }),
    reopen: () => createSecretStore({ kind: 'file', dir, key }),
    cleanup: tmp.remove,
  };
});
