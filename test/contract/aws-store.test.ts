import { startAwsStoreFixture } from '../helpers/aws-store-fixture.js';
import { secretStoreContract } from './secret-store.contract.js';

secretStoreContract('aws-secrets-manager', async () => {
  const fixture = await startAwsStoreFixture();
  return { store: fixture.open(), reopen: () => fixture.open(), cleanup: fixture.close };
});
