import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { systemClock } from '../clock.js';
import { generateStoreKey, storeKeyToText } from '../secrets/store-key.js';
import { startVaultServer } from '../secrets/vault-server/index.js';

/**
 * The secret stores `dfns-rotator demo --store KIND` can run on: each starts its local server
 * (if any) and answers the daemon's environment and the one command a consuming service would
 * use to read the current credential. One entry per backend.
 */
export interface DemoStore {
  env: Record<string, string>;
  /** Lines telling how a consumer reads `secretName`'s current credential, with the backend's own tools. */
  consumerRead(secretName: string): string[];
  close(): Promise<void>;
}

export const DEMO_STORES = {
  async file(dir: string): Promise<DemoStore> {
    return {
      env: { DFNS_ROTATOR_STORE: 'file', DFNS_ROTATOR_STORE_DIR: join(dir, 'secrets'), DFNS_ROTATOR_STORE_KEY: storeKeyToText(generateStoreKey()) },
      consumerRead: (name) => [`dfns-rotator secret get ${name} --field access-token   (with the daemon's environment)`],
      close: async () => undefined,
    };
  },
  async vault(): Promise<DemoStore> {
    const rootToken = `hvs.demo-${randomBytes(12).toString('base64url')}`;
    const vault = await startVaultServer({ rootToken, clock: systemClock });
    return {
      env: { DFNS_ROTATOR_STORE: 'vault', VAULT_ADDR: vault.url, VAULT_TOKEN: rootToken },
      consumerRead: (name) => [
        `local Vault at ${vault.url} (root token ${rootToken}, demo only)`,
        `curl -s -H "X-Vault-Token: ${rootToken}" ${vault.url}/v1/secret/data/dfns-rotator/${name} | jq .data.data`,
      ],
      close: () => vault.close(),
    };
  },
} satisfies Record<string, (dir: string) => Promise<DemoStore>>;

export type DemoStoreKind = keyof typeof DEMO_STORES;
export const DEMO_STORE_KINDS = Object.keys(DEMO_STORES) as DemoStoreKind[];
