/**
 * Names for HTTP requests in metrics and errors: a route template (`/auth/pats/:id`) so ids do
 * not explode metric cardinality, and the step of the Dfns flow a request belongs to.
 */

/** Path segments that are words of the Dfns API; anything else in a path is an id. */
const API_WORDS = new Set([
  'auth', 'login', 'logout', 'init', 'action', 'service-accounts', 'pats', 'credentials', 'activate',
  'deactivate', 'users', 'apps', 'code', 'verify', 'registration', 'recover', 'user', 'delegated',
  'social', 'logs', 'permissions', 'assignments', 'policies', 'approvals', 'wallets', 'keys',
]);

export function templateRoute(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => (segment === '' || API_WORDS.has(segment) ? segment : ':id'))
    .join('/');
}

/**
 * Which step of a Dfns flow a request is. A mutation is three requests: `action-init`,
 * `action-sign`, then the `call` carrying `X-DFNS-USERACTION`; a login is `login-init` + `login`.
 */
export type RequestStep = 'action-init' | 'action-sign' | 'login-init' | 'login' | 'call';

export function requestStep(route: string): RequestStep {
  switch (route) {
    case '/auth/action/init': return 'action-init';
    case '/auth/action': return 'action-sign';
    case '/auth/login/init': return 'login-init';
    case '/auth/login': return 'login';
    default: return 'call';
  }
}
