import type { RequestHandler } from 'express';
import { DASHBOARD_PATH } from './dashboard-path.js';

/**
 * Our own pages run no script at all. bull-board's UI runs its bundled scripts and injects
 * styles (CodeMirror), and its HTML links Google Fonts: the CSP keeps every load on this origin,
 * so the browser never tries the internet (these machines often have none).
 */
const OWN_PAGES_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

/** HSTS only when the dashboard is served over HTTPS (secureCookies): on plain HTTP it is ignored at best. */
const HSTS = 'max-age=31536000; includeSubDomains';

export function securityHeaders(options: { hsts?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    if (options.hsts) res.setHeader('Strict-Transport-Security', HSTS);
    const dashboard = req.path === DASHBOARD_PATH || req.path.startsWith(`${DASHBOARD_PATH}/`);
    res.setHeader('Content-Security-Policy', dashboard ? DASHBOARD_CSP : OWN_PAGES_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    // Pages and API answers describe live credentials: never cache them (static bundles may be).
    if (!dashboard || !req.path.startsWith(`${DASHBOARD_PATH}/static/`)) res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
