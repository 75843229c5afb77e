import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fullJitterDelay, type BackoffOptions } from '../../dfns/backoff.js';
import type { Sleep } from '../../clock.js';
import { VaultHttpError, VaultUnreachableError } from './errors.js';

/**
 * One Vault HTTP call with retries. Uses node:http(s) rather than fetch: Node 20's fetch cannot
 * take a custom CA without undici's dispatcher (not importable from Node itself), and Vault
 * behind a private CA is the common case (`VAULT_CACERT`). Retries 5xx, 412 (a performance
 * standby not yet caught up) and 429 with full-jitter backoff, and connection failures.
 */

export interface VaultHttpOptions {
  address: string;
  namespace: string | null;
  /** PEM of the CA bundle, for https. */
  ca: string | null;
  sleep: Sleep;
  backoff?: BackoffOptions;
  /** Attempts per call, default 5. */
  attempts?: number;
  timeoutMs?: number;
  random?: () => number;
}

export interface VaultAnswer {
  status: number;
  body: Record<string, unknown> | null;
  errors: string[];
}

export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST';

const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 100, maxDelayMs: 5_000 };

export class VaultHttp {
  readonly #o: VaultHttpOptions;
  readonly #base: URL;

  constructor(options: VaultHttpOptions) {
    this.#o = options;
    this.#base = new URL(options.address.replace(/\/+$/, '') + '/');
  }

  /**
   * Sends `method path` (path without `/v1/`); answers any status but retryable ones, which are
   * retried and, when they persist, thrown as VaultHttpError / VaultUnreachableError.
   */
  async call(method: VaultMethod, path: string, options: { token?: string; body?: unknown; query?: string } = {}): Promise<VaultAnswer> {
    const attempts = this.#o.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let answer: VaultAnswer;
      try {
        answer = await this.#once(method, path, options);
      } catch (err) {
        if (attempt >= attempts) throw err;
        await this.#o.sleep(fullJitterDelay(attempt, this.#o.backoff ?? DEFAULT_BACKOFF, this.#o.random ?? Math.random));
        continue;
      }
      const retryable = answer.status >= 500 || answer.status === 429 || answer.status === 412;
      if (!retryable) return answer;
      if (attempt >= attempts) throw new VaultHttpError(answer.status, method, path, answer.errors);
      await this.#o.sleep(fullJitterDelay(attempt, this.#o.backoff ?? DEFAULT_BACKOFF, this.#o.random ?? Math.random));
    }
  }

  #once(method: VaultMethod, path: string, options: { token?: string; body?: unknown; query?: string }): Promise<VaultAnswer> {
    const url = new URL(`v1/${path.split('/').map(encodeURIComponent).join('/')}${options.query ? `?${options.query}` : ''}`, this.#base);
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers['x-vault-token'] = options.token;
    if (this.#o.namespace) headers['x-vault-namespace'] = this.#o.namespace;
    if (text !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    const https = url.protocol === 'https:';
    const req: RequestOptions & { ca?: string } = { method, headers, timeout: this.#o.timeoutMs ?? 15_000 };
    if (https && this.#o.ca) req.ca = this.#o.ca;
    return new Promise<VaultAnswer>((resolve, reject) => {
      const r = (https ? httpsRequest : httpRequest)(url, req, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new VaultUnreachableError(this.#o.address, err.message)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> | null = null;
          if (raw.trim() !== '') {
            try {
              const parsed: unknown = JSON.parse(raw);
              body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
            } catch {
              body = null;
            }
          }
          const errors = Array.isArray(body?.errors) ? (body.errors as unknown[]).map(String) : [];
          resolve({ status: res.statusCode ?? 0, body, errors });
        });
      });
      r.on('timeout', () => r.destroy(new Error(`no answer within ${this.#o.timeoutMs ?? 15_000} ms`)));
      r.on('error', (err: NodeJS.ErrnoException) => reject(new VaultUnreachableError(this.#o.address, err.code ? `${err.code} ${err.message}` : err.message)));
      if (text !== undefined) r.write(text);
      r.end();
    });
  }
}
