import type { VaultAnswer, VaultHttp, VaultMethod } from './http.js';
import { VaultPermissionError } from './errors.js';
import type { VaultSession } from './session.js';

/**
 * An authenticated Vault call: the session's token, one fresh login on a 403 when the method
 * can log in again (the token may have expired or been revoked), then a 403 becomes a
 * VaultPermissionError naming the path and the capability the policy must grant.
 */
export class VaultClient {
  constructor(readonly http: VaultHttp, readonly session: VaultSession, readonly namespace: string | null) {}

  async call(method: VaultMethod, path: string, capability: string, options: { body?: unknown; query?: string } = {}): Promise<VaultAnswer> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.session.token();
      const answer = await this.http.call(method, path, { ...options, token });
      if (answer.status !== 403) return answer;
      if (attempt === 1 && this.session.canLogIn) {
        this.session.invalidate();
        continue;
      }
      throw new VaultPermissionError(path, capability, this.namespace, this.session.canLogIn ? '' : ' (or the token has expired)');
    }
  }
}
