/**
 * A JSON answer decoded as it arrives, without ever holding its whole text.
 *
 * Dfns lists are not paged for service accounts: 50,000 of them are one ~38 MB answer. Read the
 * usual way (node-fetch's `json()`: the body as one Buffer, then as one string, then parsed) the
 * answer exists three times over at the moment it is parsed. Here the bytes of a top-level object
 * are scanned as they come: each member value, and each element of a member that is an array,
 * is cut out and given to `JSON.parse` on its own, so what is held is the parsed value plus one
 * element's text. The result is the value `JSON.parse` gives for the whole text (same members in
 * the same order, `__proto__` as a plain member, last duplicate wins); a text that is not JSON is
 * refused with a SyntaxError that names a byte offset and quotes nothing of the answer (answers
 * can hold tokens). A top-level value that is not an object is collected and parsed whole.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

type State =
  | 'start'
  | 'whole' // not an object at the top: every byte collected
  | 'key-or-end' // after `{`
  | 'key' // after `,`
  | 'colon'
  | 'value'
  | 'element-or-end' // after `[`
  | 'element' // after `,` in an array
  | 'after-element'
  | 'after-member'
  | 'done';

/** One JSON value being cut out of the byte stream. */
interface Capture {
  /** Its bytes in the chunks before the current one. */
  parts: Buffer[];
  /** Where it starts in the current chunk (0 after the first). */
  start: number;
  /** Its offset in the whole text, for errors. */
  offset: number;
  /** Open `{`/`[` not yet closed; 0 for a string or a scalar. */
  depth: number;
  inString: boolean;
  escaped: boolean;
  scalar: boolean;
  /** Where the value goes once complete. */
  target: 'key' | 'member' | 'element';
}

export class JsonStreamParser {
  #state: State = 'start';
  #offset = 0;
  #whole: Buffer[] = [];
  #result: Record<string, unknown> = {};
  #key = '';
  #array: unknown[] | null = null;
  #capture: Capture | null = null;
  /** The next backslash at or after some point of `#backslashChunk` (its length when none). */
  #backslashChunk: Buffer | null = null;
  #backslashAt = 0;

  feed(chunk: Buffer): void {
    if (this.#state === 'whole') {
      this.#whole.push(chunk);
      this.#offset += chunk.length;
      return;
    }
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const capture = this.#capture;
      if (capture) {
        const end = this.#scan(capture, chunk, i);
        if (end < 0) break; // goes on in the next chunk
        this.#finish(capture, chunk, end);
        i = end;
        continue;
      }
      const byte = chunk[i]!;
      if (isWhitespace(byte)) {
        i += 1;
        continue;
      }
      switch (this.#state) {
        case 'start':
          if (byte !== OPEN_OBJECT) {
            this.#state = 'whole';
            this.#whole.push(chunk.subarray(i));
            this.#offset += n;
            return;
          }
          this.#state = 'key-or-end';
          i += 1;
          break;
        case 'key-or-end':
        case 'key':
          if (byte === CLOSE_OBJECT && this.#state === 'key-or-end') {
            this.#state = 'done';
            i += 1;
          } else if (byte === QUOTE) i = this.#begin(chunk, i, 'key');
          else this.#fail(i);
          break;
        case 'colon':
          if (byte !== COLON) this.#fail(i);
          this.#state = 'value';
          i += 1;
          break;
        case 'value':
          if (byte === OPEN_ARRAY) {
            this.#array = [];
            this.#define(this.#array);
            this.#state = 'element-or-end';
            i += 1;
          } else i = this.#begin(chunk, i, 'member');
          break;
        case 'element-or-end':
        case 'element':
          if (byte === CLOSE_ARRAY && this.#state === 'element-or-end') {
            this.#array = null;
            this.#state = 'after-member';
            i += 1;
          } else i = this.#begin(chunk, i, 'element');
          break;
        case 'after-element':
          if (byte === COMMA) this.#state = 'element';
          else if (byte === CLOSE_ARRAY) {
            this.#array = null;
            this.#state = 'after-member';
          } else this.#fail(i);
          i += 1;
          break;
        case 'after-member':
          if (byte === COMMA) this.#state = 'key';
          else if (byte === CLOSE_OBJECT) this.#state = 'done';
          else this.#fail(i);
          i += 1;
          break;
        default:
          this.#fail(i);
      }
    }
    // A value still open keeps its bytes of this chunk (whether it began here or before).
    const open = this.#capture;
    if (open) {
      open.parts.push(chunk.subarray(open.start));
      open.start = 0;
    }
    this.#offset += n;
  }

  /** The parsed value; throws a SyntaxError when the text ended before its JSON did. */
  end(): unknown {
    if (this.#state === 'whole') {
      const text = Buffer.concat(this.#whole).toString('utf8');
      this.#whole = [];
      return parseText(text, 0);
    }
    // A scalar member is complete only at the delimiter that follows it; at the end there is none.
    if (this.#capture) throw new SyntaxError(`not JSON: cut short inside the value at byte ${this.#capture.offset}`);
    if (this.#state !== 'done') throw new SyntaxError(`not JSON: cut short at byte ${this.#offset}`);
    return this.#result;
  }

  /** Starts a capture at `at`; returns where its scan goes on (a scalar's first byte may be its last). */
  #begin(chunk: Buffer, at: number, target: Capture['target']): number {
    const byte = chunk[at]!;
    const nested = byte === OPEN_OBJECT || byte === OPEN_ARRAY;
    const scalar = !nested && byte !== QUOTE;
    this.#capture = { parts: [], start: at, offset: this.#offset + at, depth: nested ? 1 : 0, inString: byte === QUOTE, escaped: false, scalar, target };
    return scalar ? at : at + 1;
  }

  /** The index just past the capture's end in `chunk`, or -1 when it goes on in the next chunk. */
  #scan(capture: Capture, chunk: Buffer, from: number): number {
    let i = from;
    const n = chunk.length;
    if (capture.scalar) {
      for (; i < n; i++) {
        const byte = chunk[i]!;
        if (isWhitespace(byte) || byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) return i;
      }
      return -1;
    }
    while (i < n) {
      if (capture.inString) {
        if (capture.escaped) {
          capture.escaped = false;
          i += 1;
          continue;
        }
        // Jump to the next quote or backslash: strings are most of an answer's bytes.
        const quote = chunk.indexOf(QUOTE, i);
        const backslash = this.#nextBackslash(chunk, i);
        if (backslash < (quote < 0 ? n : quote)) {
          capture.escaped = true;
          i = backslash + 1;
          continue;
        }
        if (quote < 0) return -1;
        capture.inString = false;
        i = quote + 1;
        if (capture.depth === 0) return i;
        continue;
      }
      const byte = chunk[i]!;
      if (byte === QUOTE) capture.inString = true;
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) capture.depth += 1;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        capture.depth -= 1;
        if (capture.depth === 0) return i + 1;
      }
      i += 1;
    }
    return -1;
  }

  /** The first backslash at or after `from` (the chunk's length when none), searched once per stretch. */
  #nextBackslash(chunk: Buffer, from: number): number {
    if (this.#backslashChunk !== chunk || this.#backslashAt < from) {
      const at = chunk.indexOf(BACKSLASH, from);
      this.#backslashChunk = chunk;
      this.#backslashAt = at < 0 ? chunk.length : at;
    }
    return this.#backslashAt;
  }

  #finish(capture: Capture, chunk: Buffer, end: number): void {
    const tail = chunk.subarray(capture.start, end);
    const bytes = capture.parts.length > 0 ? Buffer.concat([...capture.parts, tail]) : tail;
    this.#capture = null;
    const value = parseText(bytes.toString('utf8'), capture.offset);
    switch (capture.target) {
      case 'key':
        this.#key = value as string;
        this.#state = 'colon';
        return;
      case 'member':
        this.#define(value);
        this.#state = 'after-member';
        return;
      case 'element':
        this.#array!.push(value);
        this.#state = 'after-element';
    }
  }

  /** As JSON.parse does (CreateDataProperty): `__proto__` is a member, not the prototype. */
  #define(value: unknown): void {
    Object.defineProperty(this.#result, this.#key, { value, writable: true, enumerable: true, configurable: true });
  }

  #fail(at: number): never {
    throw new SyntaxError(`not JSON: unexpected byte at offset ${this.#offset + at}`);
  }
}

function parseText(text: string, offset: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SyntaxError(`not JSON: the value at byte ${offset} does not parse`);
  }
}
