import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonTolerant, parsePythonJson, pythonFloatRepr, pythonJsonDumps } from './python-json.js';

// JSON values with the non-finite numbers Python writes, and without -0 (JS and Python both write it as 0).
const pythonishValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double().map((x) => (Object.is(x, -0) ? 0 : x)),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme' }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('pythonJsonDumps / parsePythonJson', () => {
  it('round-trips any JSON value, NaN and Infinity included', () => {
    fc.assert(
      fc.property(pythonishValue, (value) => {
        expect(parsePythonJson(pythonJsonDumps(value))).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('writes what JSON.parse reads as JSON.stringify wrote it, for finite values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(pythonJsonDumps(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it("uses Python's separators and escapes", () => {
    expect(pythonJsonDumps({ a: [1, 2.5, 'é'], b: {}, c: [] })).toBe('{"a": [1, 2.5, "\\u00e9"], "b": {}, "c": []}');
    expect(pythonJsonDumps([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(
      '[NaN, Infinity, -Infinity]',
    );
  });

  it('skips undefined members and writes undefined array items as null, as JSON.stringify does', () => {
    expect(pythonJsonDumps({ a: undefined, b: [undefined, 1] })).toBe('{"b": [null, 1]}');
    expect(() => pythonJsonDumps(undefined)).toThrow(/cannot encode/);
  });

  it('uses toJSON when a value has one', () => {
    expect(pythonJsonDumps({ at: new Date(0) })).toBe('{"at": "1970-01-01T00:00:00.000Z"}');
  });

  it('refuses a circular value with a clear error', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => pythonJsonDumps(loop)).toThrow(/circular/);
  });
});

describe('pythonFloatRepr', () => {
  it.each([
    [0.1, '0.1'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123.0, '123.0'],
    [-0, '-0.0'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ])('%d prints as %s', (value, text) => {
    expect(pythonFloatRepr(value)).toBe(text);
  });

  it('always reads back as the same number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Object.is(Number(pythonFloatRepr(x)), x)).toBe(true);
      }),
    );
  });
});

describe('the tolerant parser', () => {
  it('agrees with JSON.parse on any valid JSON, however spaced', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t', ' \r\n '), (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(parseJsonTolerant(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reads bare NaN and Infinity but leaves them alone inside strings', () => {
    expect(parsePythonJson('["NaN", NaN, {"Infinity": -Infinity, "x": "-Infinity"}, Infinity]')).toEqual([
      'NaN',
      Number.NaN,
      { Infinity: Number.NEGATIVE_INFINITY, x: '-Infinity' },
      Number.POSITIVE_INFINITY,
    ]);
    expect(parsePythonJson('{"s": "a \\" NaN \\\\", "v": NaN}')).toEqual({ s: 'a " NaN \\', v: Number.NaN });
  });

  it('keeps a "__proto__" key as data', () => {
    const parsed = parsePythonJson('{"__proto__": {"polluted": true}, "v": NaN}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__', 'v']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', /end of input/],
    ['[NaN', /expected "," or "\]"/],
    ['{"a" NaN}', /expected ":"/],
    ['[Nan]', /unexpected character/],
    ['"open', /unterminated string/],
    ['[NaN] 1', /after the JSON value/],
    ['[1.]', /expected "," or "\]"/],
    [`${'['.repeat(2000)}NaN${']'.repeat(2000)}`, /nested deeper/],
  ])('rejects %j with a position', (text, reason) => {
    expect(() => parseJsonTolerant(text)).toThrow(reason);
    expect(() => parseJsonTolerant(text)).toThrow(/position \d+/);
  });
});
