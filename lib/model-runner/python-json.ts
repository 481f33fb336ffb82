// JSON as Python's `json` module writes and reads it. Model processes decode our arguments with
// `json.loads` and encode their answers with `json.dumps` (default settings), which writes
// `", "` / `": "` separators, escapes every non-ASCII character, prints floats with `repr` and emits
// the bare tokens NaN, Infinity and -Infinity that `JSON.parse` rejects.

const MAX_DEPTH = 1000;

/** Text that Python's `json.dumps(value)` would produce for the equivalent Python value. */
export function pythonJsonDumps(value: unknown): string {
  const text = write(value, '', 0);
  if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
  return text;
}

function write(input: unknown, key: string, depth: number): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'number':
      return pythonNumber(value);
    case 'string':
      return pythonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new TypeError(`JSON value nested deeper than ${MAX_DEPTH} levels (circular?)`);
      if (Array.isArray(value)) return writeArray(value, depth + 1);
      return writeObject(value as Record<string, unknown>, depth + 1);
    }
    default:
      // undefined, functions and symbols: skipped in objects, null in arrays, as JSON.stringify does.
      return undefined;
  }
}

function writeArray(items: unknown[], depth: number): string {
  if (items.length === 0) return '[]';
  // Price histories are arrays of number pairs: when every number prints the same in both languages,
  // the native writer does the work and only the separators differ (no strings, so no commas in text).
  if (isPlainNumberTree(items, depth)) return JSON.stringify(items).replaceAll(',', ', ');
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // Numbers dominate price histories; skip the generic dispatch for them.
    const text = typeof item === 'number' ? pythonNumber(item) : (write(item, String(i), depth) ?? 'null');
    out += i === 0 ? text : `, ${text}`;
  }
  return `${out}]`;
}

function isPlainNumberTree(items: unknown[], depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === 'number') {
      if (!(Number.isSafeInteger(item) || (Math.abs(item) >= 1e-4 && Math.abs(item) < 1e16))) return false;
    } else if (!Array.isArray(item) || !isPlainNumberTree(item, depth + 1)) {
      return false;
    }
  }
  return true;
}

function writeObject(object: Record<string, unknown>, depth: number): string {
  let out = '{';
  let first = true;
  for (const key of Object.keys(object)) {
    const text = write(object[key], key, depth);
    if (text === undefined) continue;
    out += `${first ? '' : ', '}${pythonString(key)}: ${text}`;
    first = false;
  }
  return `${out}}`;
}

const INT64_LIMIT = 2 ** 63;

/**
 * Python writes an int as its digits and a float with `repr`. A JS integer that fits Python's
 * 64-bit INT variant is taken as an int (as encodeVariant does); larger ones are floats.
 */
export function pythonNumber(value: number): string {
  if (Number.isInteger(value)) {
    // String() prints the shortest round-trip digits, which are not all the digits beyond 2**53.
    if (Number.isSafeInteger(value)) return String(value === 0 ? 0 : value);
    return Math.abs(value) < INT64_LIMIT ? BigInt(value).toString() : pythonFloatRepr(value);
  }
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  // A non-integer is below 2**52, and from 1e-4 up both languages print the same fixed notation.
  if (Math.abs(value) >= 1e-4) return String(value);
  return pythonFloatRepr(value);
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument gives the same shortest round-trip digits as repr().
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}

// Printable ASCII other than `"` and `\` passes through; Python escapes everything else.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string as Python writes it with `ensure_ascii=True`. */
export function pythonString(text: string): string {
  if (PLAIN_ASCII.test(text)) return `"${text}"`;
  const escaped = text.replace(
    NEEDS_ESCAPE,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}

/**
 * Parses JSON as Python's `json.loads` accepts it, including the bare tokens NaN, Infinity and
 * -Infinity. The native parser runs first; the hand-written one only when that fails.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return parseJsonTolerant(text);
}

/** The hand-written parser alone (exported for tests): JSON plus NaN, Infinity and -Infinity. */
export function parseJsonTolerant(text: string): unknown {
  return new TolerantParser(text).parseDocument();
}

class TolerantParser {
  private index = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.index < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.skipWhitespace();
    const char = this.text[this.index];
    switch (char) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', Number.NaN);
      case 'I':
        return this.literal('Infinity', Number.POSITIVE_INFINITY);
      case undefined:
        return this.fail('unexpected end of input');
      default:
        if (char === '-' && this.text.startsWith('-Infinity', this.index)) {
          return this.literal('-Infinity', Number.NEGATIVE_INFINITY);
        }
        return this.parseNumber();
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.index++;
    this.skipWhitespace();
    if (this.text[this.index] === '}') {
      this.index++;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.index] !== '"') this.fail('expected a string key');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.index] !== ':') this.fail('expected ":"');
      this.index++;
      const value = this.parseValue(depth + 1);
      // defineProperty so a "__proto__" key stays data, as JSON.parse keeps it.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const next = this.text[this.index++];
      if (next === '}') return object;
      if (next !== ',') this.fail('expected "," or "}"', this.index - 1);
    }
  }

  private parseArray(depth: number): unknown[] {
    const array: unknown[] = [];
    this.index++;
    this.skipWhitespace();
    if (this.text[this.index] === ']') {
      this.index++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.index++];
      if (next === ']') return array;
      if (next !== ',') this.fail('expected "," or "]"', this.index - 1);
    }
  }

  private parseString(): string {
    const start = this.index;
    let end = start + 1;
    // Find the closing quote (skipping escaped characters), then let the native parser unescape.
    for (;;) {
      const code = this.text.charCodeAt(end);
      if (Number.isNaN(code)) this.fail('unterminated string', start);
      if (code === 0x22) break;
      if (code === 0x5c) end++;
      end++;
    }
    this.index = end + 1;
    try {
      return JSON.parse(this.text.slice(start, end + 1)) as string;
    } catch {
      return this.fail('invalid string', start);
    }
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.index;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('unexpected character');
    this.index += match[0].length;
    return Number(match[0]);
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.index)) this.fail('unexpected character');
    this.index += word.length;
    return value;
  }

  private skipWhitespace(): void {
    for (;;) {
      const code = this.text.charCodeAt(this.index);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.index++;
    }
  }

  private fail(problem: string, at = this.index): never {
    throw new SyntaxError(`invalid JSON at position ${at}: ${problem}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
