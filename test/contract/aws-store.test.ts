import { startAwsStore } from '../helpers/aws-store-fixture.js';
import { secretStoreContract } from './secret-store.contract.js';

secretStoreContract('aws-secrets-manager', async () => {
  const running = await startAwsStore();
  return { store: running.open(), reopen: () => running.open(), cleanup: running.close };
});
