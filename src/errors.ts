/**
 * The project's error base. Every error the worker acts on carries a stable `code`, because
 * failures come back from BullMQ through Redis as strings: compare by `code` (or `name`), never
 * by `instanceof` alone. Messages name what failed and where, and never carry a token or key.
 */
export interface RotatorErrorOptions {
  cause?: unknown;
  /** True when the same operation may succeed if simply tried again later. */
  retryable?: boolean;
}

export class RotatorError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: RotatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad configuration or bad input at a boundary; `problems` lists every issue found, each naming its field. */
export class ConfigError extends RotatorError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source = 'configuration') {
    super('CONFIG_INVALID', `invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Reads `code` from anything thrown, including errors that went through Redis as plain objects. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** A one-line description of anything thrown, safe to log (callers never put secrets in messages). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
