export { startVaultServer, type RunningVault, type VaultKnobs, type VaultServerOptions, type VaultRequestLog } from './server.js';
export type { PolicyRule, Capability, AppRoleSettings, KubernetesRoleSettings } from './auth.js';
export { CAS_MISMATCH } from './kv.js';
