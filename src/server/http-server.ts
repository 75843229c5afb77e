import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS } from '../config/types.js';
import { createApp, type AppOptions } from './app.js';

export interface HttpServerOptions extends Omit<AppOptions, 'host'> {
  /** Bind address; 127.0.0.1 unless configured otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** `/readyz` (and `/livez` if so configured) answer 503 from now on. Call first on SIGTERM. */
  setShuttingDown(): void;
  /** Stops listening and closes idle and open connections. Idempotent. */
  close(): Promise<void>;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? DEFAULTS.host;
  const { app, setShuttingDown } = createApp({ ...options, host });
  warnIfPlainHttpOffHost(options, host);
  const server = createServer(app);
  await listen(server, options.port ?? DEFAULTS.port, host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.logger.info({ url }, 'dashboard listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    setShuttingDown,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Browsers keep connections alive (and bull-board polls): do not wait for them to go idle.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Off loopback, without a TLS proxy in front (which `secureCookies`/`trustProxy` say there is),
 * the token, the login form and the session cookie cross the network in clear text.
 */
function warnIfPlainHttpOffHost(options: HttpServerOptions, host: string): void {
  if (LOOPBACK_HOSTS.has(host) || host.startsWith('127.')) return;
  if (options.secureCookies || Boolean(options.trustProxy)) return;
  options.logger.warn(
    { host, secureCookies: false, trustProxy: false },
    `DASHBOARD ON PLAIN HTTP OFF THIS HOST: bound to ${host} without secureCookies or trustProxy, so the dashboard token and session cookie cross the network unencrypted. Put an HTTPS proxy in front and set server.secureCookies: true and server.trustProxy, or bind to 127.0.0.1 (in a container whose port is published on the host's 127.0.0.1 only, as docker-compose.yml does, nothing crosses the network)`,
  );
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
