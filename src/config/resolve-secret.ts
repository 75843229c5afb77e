import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseStoreKey } from '../secrets/store-key.js';
import { envNamesFor } from './env.js';
import type { SecretRef } from './schema.js';
import { SecretValue } from './secret-value.js';

/** Where resolving config references reports problems, and reads env and files. */
export interface ResolveContext {
  problems: string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

/** `{ env }` / `{ file }` → the secret; a problem naming `path` (never the value) and null otherwise. */
export function resolveSecret(ref: SecretRef, path: string, ctx: ResolveContext): SecretValue | null {
  if ('env' in ref) {
    const value = ctx.env[ref.env];
    if (value === undefined || value === '') {
      ctx.problems.push(`${path}: environment variable ${ref.env} is not set or empty`);
      return null;
    }
    return new SecretValue(value.trim(), `env ${ref.env}`);
  }
  if ('file' in ref) {
    try {
      const text = ctx.readFile(ref.file).trim();
      if (text === '') {
        ctx.problems.push(`${path}: file ${ref.file} is empty`);
        return null;
      }
      return new SecretValue(text, `file ${ref.file}`);
    } catch (err) {
      ctx.problems.push(`${path}: cannot read file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
  }
  ctx.problems.push(`${path}: a store reference is not allowed here`);
  return null;
}

/** Uses the store's own parser so config and store agree on what a key is. */
export function checkStoreKey(v: SecretValue): string | null {
  try {
    parseStoreKey(v.reveal(), v.source);
    return null;
  } catch (err) {
    return err instanceof ConfigError ? err.problems.join('; ').replace(/^store key \([^)]*\) /, '') : 'unreadable';
  }
}

/** ` (set PATH in the config file or ENV)` for a message. */
export function hint(path: string): string {
  const names = envNamesFor(path);
  return names.length > 0 ? ` (set ${path} in the config file or ${names.join(' / ')})` : ` (set ${path} in the config file)`;
}

/** File references (`file`, `dir`) made absolute relative to where they were written. */
export function absolutizeFileRefs<T>(value: T, baseDir: string): T {
  if (Array.isArray(value)) return value.map((v) => absolutizeFileRefs(v, baseDir)) as T;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      if (k === 'file' && typeof v === 'string') return [k, isAbsolute(v) ? v : resolve(baseDir, v)];
      if (k === 'dir' && typeof v === 'string') return [k, isAbsolute(v) ? v : resolve(baseDir, v)];
      return [k, absolutizeFileRefs(v, baseDir)];
    });
    return Object.fromEntries(entries) as T;
  }
  return value;
}
