import { describe, expect, it } from 'vitest';
import { JsonStreamParser } from '../../src/dfns/json-stream.js';
import { seededRandom } from '../../src/dfns/simulator/rng.js';

/** Seeded (the simulator's mulberry32), so a failure names a seed that reproduces it. */
const prng = seededRandom;

const PIECES = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', 'é', '€', '😀', '\u0001', '{', '}', '[', ']', ',', ':', 'us-', 'to-'];

function randomString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return [0, -1, 3.25, -0.5e-7, 1e21, 123456789012][Math.floor(r() * 6)];
    case 3:
    case 4: return randomString(r);
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) out[randomString(r)] = randomValue(r, depth + 1);
      return out;
    }
  }
}

/** An answer-like top-level object: arrays of items next to scalars and nested objects. */
function randomAnswer(r: () => number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) {
    const key = r() < 0.3 ? 'items' : randomString(r);
    out[key] = r() < 0.6 ? Array.from({ length: Math.floor(r() * 6) }, () => randomValue(r, 1)) : randomValue(r, 1);
  }
  return out;
}

function parseInChunks(text: Buffer, size: number): unknown {
  const parser = new JsonStreamParser();
  for (let i = 0; i < text.length; i += size) parser.feed(text.subarray(i, i + size));
  return parser.end();
}

function outcome(fn: () => unknown): { ok: true; value: string; keys: string } | { ok: false } {
  try {
    const value = fn();
    // Member order and own `__proto__` members are part of the value.
    return { ok: true, value: JSON.stringify(value), keys: JSON.stringify(value && typeof value === 'object' ? Object.keys(value) : null) };
  } catch (err) {
    expect(err).toBeInstanceOf(SyntaxError);
    return { ok: false };
  }
}

const CHUNK_SIZES = [1, 2, 3, 7, 64, 1 << 20];

describe('JsonStreamParser', () => {
  it('gives what JSON.parse gives for any JSON text, whatever the chunking', () => {
    const r = prng(1);
    for (let n = 0; n < 400; n++) {
      const value = n % 5 === 0 ? randomValue(r, 0) : randomAnswer(r);
      const text = JSON.stringify(value, null, n % 3 === 0 ? 2 : undefined);
      const bytes = Buffer.from(n % 7 === 0 ? ` \r\n\t${text}\n ` : text, 'utf8');
      const expected = outcome(() => JSON.parse(bytes.toString('utf8')));
      expect(expected.ok).toBe(true);
      for (const size of CHUNK_SIZES) expect(outcome(() => parseInChunks(bytes, size)), `text #${n}, chunks of ${size}`).toEqual(expected);
    }
  });

  it('accepts exactly the texts JSON.parse accepts: damaged texts are refused, and the rest read the same', () => {
    const r = prng(2);
    const inserts = ['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '1', ' ', '\u0000', 'é'];
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const good = Buffer.from(JSON.stringify(randomAnswer(r)), 'utf8');
      const at = Math.floor(r() * (good.length + 1));
      const damage = Math.floor(r() * 3);
      const bad =
        damage === 0 ? Buffer.concat([good.subarray(0, at), good.subarray(at + 1)]) // a byte lost (maybe inside a UTF-8 sequence)
        : damage === 1 ? Buffer.concat([good.subarray(0, at), Buffer.from(inserts[Math.floor(r() * inserts.length)]!, 'utf8'), good.subarray(at)])
        : good.subarray(0, at); // cut short
      const expected = outcome(() => JSON.parse(bad.toString('utf8')));
      if (!expected.ok) refused += 1;
      for (const size of [1, 5, 1 << 20]) expect(outcome(() => parseInChunks(bad, size)), `damaged text #${n}: ${JSON.stringify(bad.toString('utf8'))}, chunks of ${size}`).toEqual(expected);
    }
    // The damage mostly breaks the text: the comparison above is about refusals, not only values.
    expect(refused).toBeGreaterThan(2000);
  });

  it('keeps `__proto__` as a member and the last of duplicate members, as JSON.parse does', () => {
    const text = Buffer.from('{"__proto__":{"polluted":true},"a":1,"items":[{"__proto__":[]}],"a":2}');
    const parsed = parseInChunks(text, 4) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a', 'items']);
    expect(parsed.a).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text.toString())));
  });

  it('refuses a damaged answer without quoting any of it (answers can hold tokens)', () => {
    const secret = 'eyJhbGciOiJFZERTQSJ9.secret-token';
    const texts = [
      `{"items":[{"accessToken":"${secret}"} x]}`,
      `{"items":[{"accessToken":"${secret}",}]}`,
      `{"items":[{"accessToken":"${secret}"`,
      `{"accessToken":${secret}}`,
      `["${secret}",]`,
    ];
    for (const text of texts) {
      let message = '';
      try {
        parseInChunks(Buffer.from(text), 3);
      } catch (err) {
        expect(err).toBeInstanceOf(SyntaxError);
        message = (err as Error).message;
      }
      expect(message, text).toMatch(/^not JSON: .*byte/);
      expect(message).not.toContain('secret');
      expect(message).not.toContain('eyJ');
    }
  });

  it('names where the text went wrong, as a byte offset', () => {
    expect(() => parseInChunks(Buffer.from('{"items":[1,2] "next":null}'), 2)).toThrow('not JSON: unexpected byte at offset 15');
    expect(() => parseInChunks(Buffer.from('{"items":[1,2'), 2)).toThrow('not JSON: cut short inside the value at byte 12');
    expect(() => parseInChunks(Buffer.from('{"items":[1,2]'), 2)).toThrow('not JSON: cut short at byte 14');
  });
});
