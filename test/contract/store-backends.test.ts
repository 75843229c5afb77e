import { makeTempDir } from '../helpers/temp-dir.js';
import { CONSUMER_VIEW_KINDS, STORE_KINDS, startStore } from '../helpers/store-fixtures.js';
import { secretStoreContract } from './secret-store.contract.js';

// Every backend in test/helpers/store-fixtures.ts except the file store (file-store.test.ts runs it with its own folder checks).
for (const kind of STORE_KINDS.filter((k) => k !== 'file')) {
  secretStoreContract(kind, async () => {
    const tmp = await makeTempDir();
    const running = await startStore(kind, { dir: tmp.path });
    return {
      store: running.open(),
      reopen: () => running.open(),
      ...(running.consumerView ? { consumerView: running.consumerView } : {}),
      cleanup: async () => {
        await running.close();
        await tmp.remove();
      },
    };
  }, { consumerView: CONSUMER_VIEW_KINDS.has(kind) });
}
