import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The secret part of the fake webhook URL: it must never show up in an error or a log line. */
export const SECRET_TOKEN = 'xS3cr3tW3bh00kT0k3nZZ';
export const SECRET_PATH = `/services/T0FAKE99/B0FAKE99/${SECRET_TOKEN}`;

export interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: { text?: unknown; blocks?: unknown };
}

export type Responder = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server standing in for Slack: records what arrives, answers as each test says. */
export class FakeSlack {
  readonly received: Received[] = [];
  respond: Responder = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Received['body'] = {};
      try {
        body = JSON.parse(raw) as Received['body'];
      } catch {
        // recorded as empty; the assertion on `text`/`blocks` then fails
      }
      this.received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      this.respond(req, res);
    });
  });

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get webhookUrl(): string {
    return `http://127.0.0.1:${this.port}${SECRET_PATH}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

