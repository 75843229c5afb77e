import type { IncomingHttpHeaders } from 'node:http';

/**
 * Where a request comes from, as far as the browser says. Browsers attach cookies (and cached
 * basic-auth credentials) to cross-site requests too, so a state-changing request authenticated
 * that way must prove it comes from our own pages. `Sec-Fetch-Site` is set by the browser and
 * cannot be forged by a page; older browsers send only `Origin`, compared with the `Host` the
 * request was sent to. API clients (curl, Prometheus) send neither: `unknown`.
 */
export type RequestSite = 'same-origin' | 'cross-site' | 'unknown';

export function requestSite(headers: IncomingHttpHeaders): RequestSite {
  const fetchSite = headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && fetchSite !== '') return fetchSite === 'same-origin' ? 'same-origin' : 'cross-site';
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '') {
    try {
      return new URL(origin).host === headers.host ? 'same-origin' : 'cross-site';
    } catch {
      return 'cross-site'; // `Origin: null` (sandboxed frames, file://) and garbage
    }
  }
  return 'unknown';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}
