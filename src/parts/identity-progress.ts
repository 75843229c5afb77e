import type { DfnsPort } from '../dfns/port.js';
import type { Identities } from '../jobs/identities/identities.js';

const LISTINGS: Record<string, string> = {
  listServiceAccounts: 'listing service accounts',
  listServiceAccountsDetailed: 'listing service accounts',
  listPersonalAccessTokens: 'listing personal access tokens',
  listPersonalAccessTokensDetailed: 'listing personal access tokens',
};

/** Announces each listing (and the operator's login, which happens on its first call). */
export function withProgress(identities: Identities, progress: (line: string) => void): Identities {
  let loggedIn = false;
  const announce = (port: DfnsPort, isOperator: boolean): DfnsPort =>
    new Proxy(port, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (isOperator && !loggedIn) {
            loggedIn = true;
            progress(`logging in as ${target.identity}…`);
          }
          const what = LISTINGS[String(prop)];
          if (what) progress(`${what} as ${target.identity}…`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    operatorUsername: identities.operatorUsername,
    operator: async () => {
      const port = await identities.operator();
      return port && announce(port, true);
    },
    watcher: async () => {
      const port = await identities.watcher();
      return port && announce(port, false);
    },
    asSecret: (secret, label) => announce(identities.asSecret(secret, label), false),
    heldTokens: () => identities.heldTokens(),
  };
}
