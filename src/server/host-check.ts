import type { RequestHandler } from 'express';

/**
 * DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1 reaches this
 * server from the victim's browser, same-origin as far as the browser knows. The `Host` header
 * still says `evil.example`, so only names this server is known by are served: by default the
 * bound address and the loopback names, plus whatever `server.allowedHosts` adds (the name a
 * proxy forwards). The probes and `/metrics` answer any Host: Kubernetes probes and Prometheus
 * address a pod by its IP; the probes tell nothing and change nothing, and `/metrics` still needs
 * the token, which a rebinding page does not have (cookies and cached basic credentials are
 * bound to the name the browser used, not ours).
 */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const OPEN_PATHS = new Set(['/livez', '/readyz', '/metrics']);

export function allowedHostNames(boundHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, ...extra.map(normalise)]);
  // A wildcard bind has no name of its own: it is reached by whatever names are listed.
  if (boundHost !== '0.0.0.0' && boundHost !== '::') names.add(normalise(boundHost));
  return names;
}

/** The host name of a `Host` header, without port or IPv6 brackets, lower case. */
export function hostNameOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function normalise(name: string): string {
  return hostNameOf(name).replace(/\.$/, '');
}

export function hostAllowList(names: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    if (OPEN_PATHS.has(req.path)) return next();
    const header = req.headers.host;
    if (typeof header === 'string' && names.has(normalise(header))) return next();
    res.status(403).json({
      error: `refused: this server is not known as ${JSON.stringify(String(header ?? '').slice(0, 100))}; add the name to server.allowedHosts (DFNS_ROTATOR_ALLOWED_HOSTS) if it should be`,
    });
  };
}
