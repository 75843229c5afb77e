import { inspect } from 'node:util';

/**
 * A secret held in memory (a key, a token, a password, a webhook URL). It refuses to be
 * printed: `String()`, `JSON.stringify`, `util.inspect` and pino all see `[secret]`. Only
 * `reveal()` gives the value, and only code that must send or use it calls that.
 */
export class SecretValue {
  readonly #value: string;
  /** Where it came from, for messages: `file /run/secrets/op.pem`, `env SLACK_WEBHOOK_URL`. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return `[secret from ${this.source}]`;
  }

  [inspect.custom](): string {
    return `[secret from ${this.source}]`;
  }
}
