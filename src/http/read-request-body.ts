import type { IncomingMessage } from 'node:http';

/** Bodies of the local servers' requests are small JSON documents; anything larger is refused. */
export const MAX_REQUEST_BODY_BYTES = 1 << 20;

/**
 * The request body as UTF-8, or null when it is larger than `MAX_REQUEST_BODY_BYTES` (the rest is
 * read and dropped, so the connection stays usable for the error answer).
 */
export function readRequestBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
