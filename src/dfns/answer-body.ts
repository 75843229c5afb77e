import { JsonStreamParser } from './json-stream.js';

/**
 * Reading an answer's body inside the transport seam (transport.ts), under its timeout: a JSON
 * success decoded as it arrives (json-stream.ts), anything else held once as bytes.
 */

export interface NodeFetchResponse {
  status: number;
  statusText: string;
  url: string;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  /** node-fetch 2: the body as one Buffer (arrayBuffer() copies it once more). */
  buffer?(): Promise<Buffer>;
  /** node-fetch 2: the body stream. */
  body?: unknown;
}

export type ResponseCtor = new (
  body: Buffer,
  init: { status: number; statusText: string; headers: unknown; url: string },
) => NodeFetchResponse;

export const EMPTY = Buffer.alloc(0);

/** A success (not a 202 approval, whose body the outcome reads) that says it is JSON. */
export function decodesAsItArrives(response: NodeFetchResponse): boolean {
  const ok = response.status >= 200 && response.status < 300 && response.status !== 202;
  const json = /\bjson\b/i.test(response.headers.get('content-type') ?? '');
  const stream = response.body as AsyncIterable<Buffer> | null | undefined;
  return ok && json && !!stream && typeof stream[Symbol.asyncIterator] === 'function';
}

type Decoded = { ok: true; value: unknown } | { ok: false; error: SyntaxError };

/** The body decoded as it streams in; a body that is not JSON is a result (the SDK's `json()` rejects), a broken stream throws. */
export async function readJson(response: NodeFetchResponse): Promise<Decoded> {
  const limit = contentLength(response);
  const parser = new JsonStreamParser();
  let received = 0;
  let error: SyntaxError | undefined;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (limit !== undefined && received > limit) throw bodyTooLong();
    if (error) continue; // read to the end all the same: the connection is then reusable
    try {
      parser.feed(chunk);
    } catch (err) {
      error = err as SyntaxError;
    }
  }
  if (error) return { ok: false, error };
  try {
    return { ok: true, value: parser.end() };
  } catch (err) {
    return { ok: false, error: err as SyntaxError };
  }
}

/**
 * What node-fetch's `json()` would have given, already decoded. `text()`, `buffer()` and
 * `arrayBuffer()` answer the same value as JSON text (the SDK calls `json()` only; a version that
 * read the body another way still gets the answer, not an empty body).
 */
export function decodedResponse(Response: ResponseCtor, response: NodeFetchResponse, decoded: Decoded): NodeFetchResponse {
  const out = new Response(EMPTY, { status: response.status, statusText: response.statusText, headers: response.headers, url: response.url });
  const json = () => (decoded.ok ? Promise.resolve(decoded.value) : Promise.reject(decoded.error));
  Object.defineProperties(out, {
    json: { value: json },
    text: { value: async () => JSON.stringify(await json()) },
    buffer: { value: async () => Buffer.from(JSON.stringify(await json()), 'utf8') },
    arrayBuffer: { value: async () => new Uint8Array(Buffer.from(JSON.stringify(await json()), 'utf8')).buffer },
  });
  return out;
}

/** Content-Length, when it counts the bytes the stream gives (no compression). */
function contentLength(response: NodeFetchResponse): number | undefined {
  const length = Number(response.headers.get('content-length') ?? NaN);
  const plain = response.headers.get('content-encoding') === null;
  return plain && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function bodyTooLong(): Error {
  return Object.assign(new Error('the answer is longer than its Content-Length'), { code: 'EBODYLENGTH' });
}

/**
 * The whole body, held once. node-fetch's buffer() keeps every chunk and then concatenates them
 * (arrayBuffer() copies that once more): a 40 MB listing of 50,000 service accounts was held two
 * or three times at once. With a Content-Length (and no compression, where the header counts
 * the compressed bytes) the chunks are copied into one buffer of that size as they arrive.
 */
export async function readBody(response: NodeFetchResponse): Promise<Buffer> {
  const length = contentLength(response);
  const stream = response.body as AsyncIterable<Buffer> | null | undefined;
  if (length !== undefined && length > 0 && stream && typeof stream[Symbol.asyncIterator] === 'function') {
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for await (const chunk of stream) {
      if (at + chunk.length > length) throw bodyTooLong();
      chunk.copy(out, at);
      at += chunk.length;
    }
    return at === length ? out : out.subarray(0, at);
  }
  return typeof response.buffer === 'function' ? response.buffer() : Buffer.from(await response.arrayBuffer());
}
