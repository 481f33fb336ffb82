// Variant bytes against the Python side itself: model-runner's datatype_transformer (the module the
// model process uses to read our arguments and write its answers) runs in .venv-runner.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { runnerPython } from '../../test/support/tools.js';
import { pythonFloatRepr } from './python-json.js';
import type { Value } from './types.js';
import { decodeVariant, encodeVariant, VariantDecodeError, VariantType } from './variant.js';

const PYTHON_SIDE = `
import base64, json, math, sys
from model_runner.utils.datatype_transformer import decode_data, detect_data_type, encode_data

def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b

request = json.load(sys.stdin)
out = {"encoded": [], "decoded": [], "reprs": []}
for expr in request["encode"]:
    value = eval(expr)
    kind = detect_data_type(value)
    out["encoded"].append({"type": int(kind), "b64": base64.b64encode(encode_data(kind, value)).decode()})
for item in request["decode"]:
    try:
        value = decode_data(base64.b64decode(item["b64"]), item["type"])
        out["decoded"].append({"same": same(value, eval(item["expect"])), "repr": repr(value)[:200]})
    except Exception as error:
        out["decoded"].append({"same": False, "repr": "error: " + str(error)})
raw = base64.b64decode(request["doubles"])
import struct
out["reprs"] = [repr(x) for x in struct.unpack("<%dd" % (len(raw) // 8), raw)]
json.dump(out, sys.stdout)
`;

interface Case {
  name: string;
  js: Value;
  py: string;
  /** What decodeVariant gives for Python's bytes, when it differs from `js` (a bool arrives as INT). */
  decodesTo?: Value;
  /** The same for Python reading our bytes. */
  pyDecodesTo?: string;
}

const prices = Array.from({ length: 200 }, (_, i) => [1_700_000_000 + 60 * i, 42000.123 + i * 0.01]);
const densities = Array.from({ length: 288 }, (_, k) => ({
  type: 'mixture',
  components: [
    {
      density: {
        type: 'builtin',
        name: 'norm',
        params: { loc: 1.234567e-5 * (k + 1), scale: 0.00123456789 + k * 1e-7 },
      },
      weight: 1,
    },
  ],
}));

const cases: Case[] = [
  { name: 'zero', js: 0, py: '0' },
  { name: 'one', js: 1, py: '1' },
  { name: 'minus one', js: -1, py: '-1' },
  { name: 'largest safe integer', js: 2 ** 53 - 1, py: '2**53 - 1' },
  { name: 'int64 max as bigint', js: 2n ** 63n - 1n, py: '2**63 - 1' },
  { name: 'int64 min as bigint', js: -(2n ** 63n), py: '-2**63' },
  { name: 'horizon', js: 86400, py: '86400' },
  { name: 'true', js: true, py: 'True', decodesTo: 1, pyDecodesTo: '1' },
  { name: 'false', js: false, py: 'False', decodesTo: 0, pyDecodesTo: '0' },
  { name: 'a fraction', js: 1.5, py: '1.5' },
  { name: 'a negative fraction', js: -0.1, py: '-0.1' },
  { name: 'a small double', js: 1e-5, py: '1e-5' },
  { name: 'the smallest subnormal', js: 5e-324, py: '5e-324' },
  { name: 'a number beyond int64', js: 1e300, py: '1e300' },
  { name: 'NaN', js: Number.NaN, py: "float('nan')" },
  { name: 'Infinity', js: Number.POSITIVE_INFINITY, py: "float('inf')" },
  { name: '-Infinity', js: Number.NEGATIVE_INFINITY, py: "float('-inf')" },
  { name: 'empty string', js: '', py: "''" },
  { name: 'asset', js: 'BTC', py: "'BTC'" },
  { name: 'non-ASCII string', js: 'héllo ✓ 😀', py: "'héllo ✓ 😀'" },
  { name: 'empty list', js: [], py: '[]' },
  { name: 'empty dict', js: {}, py: '{}' },
  { name: 'mixed list', js: [1, 2.5, 'a', null, true, false], py: "[1, 2.5, 'a', None, True, False]" },
  { name: 'nested dict', js: { a: [1, 2], b: { c: null, d: 'x' } }, py: "{'a': [1, 2], 'b': {'c': None, 'd': 'x'}}" },
  {
    name: 'non-finite and exponent floats in JSON',
    js: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-7, 0.0001, 0.00012, 123456789.123, -2.5e-5],
    py: "[float('nan'), float('inf'), float('-inf'), 1e-7, 0.0001, 0.00012, 123456789.123, -2.5e-5]",
  },
  // JS cannot tell 2.0 from 2: an integral number is written as a Python int, as encodeVariant does.
  { name: 'integers in JSON', js: [0, 2, 1e16, 2 ** 53, -(2 ** 60)], py: '[0, 2, 10**16, 2**53, -2**60]' },
  { name: 'a huge integer-valued number in JSON', js: [2 ** 63, 1e300], py: '[float(2**63), 1e300]' },
  {
    name: 'escapes',
    js: { 'quote"back\\slash': 'ctl\u0000\u001f\u007f\n\t\r\b\f é 😀 \u2028' },
    py: String.raw`{'quote"back\\slash': 'ctl\x00\x1f\x7f\n\t\r\b\f é 😀 \u2028'}`,
  },
  {
    name: 'a price history',
    js: { BTC: prices },
    py: "{'BTC': [[1700000000 + 60 * i, 42000.123 + i * 0.01] for i in range(200)]}",
  },
  {
    name: '288 densities',
    js: densities,
    py: "[{'type': 'mixture', 'components': [{'density': {'type': 'builtin', 'name': 'norm', 'params': {'loc': 1.234567e-5 * (k + 1), 'scale': 0.00123456789 + k * 1e-7}}, 'weight': 1}]} for k in range(288)]",
  },
];

const randomDoubles = fc.sample(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  { numRuns: 3000, seed: 42 },
);

interface PythonAnswer {
  encoded: Array<{ type: number; b64: string }>;
  decoded: Array<{ same: boolean; repr: string }>;
  reprs: string[];
}

let python: PythonAnswer;

beforeAll(() => {
  const ours = cases.map((c) => encodeVariant(c.js));
  const request = {
    encode: cases.map((c) => c.py),
    decode: ours.map((v, i) => ({
      type: v.type,
      b64: v.value.toString('base64'),
      expect: cases[i]?.pyDecodesTo ?? cases[i]?.py,
    })),
    doubles: Buffer.from(new Float64Array(randomDoubles).buffer).toString('base64'),
  };
  const run = spawnSync(runnerPython(), ['-c', PYTHON_SIDE], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`the Python side failed (${run.status}): ${run.stderr}`);
  python = JSON.parse(run.stdout) as PythonAnswer;
}, 60_000);

describe('encodeVariant gives the bytes Python writes', () => {
  cases.forEach((c, i) => {
    it(c.name, () => {
      const ours = encodeVariant(c.js);
      const theirs = python.encoded[i];
      expect(theirs).toBeDefined();
      expect(ours.type).toBe(theirs?.type);
      expect(ours.value.toString('base64')).toBe(theirs?.b64);
    });
  });
});

describe('Python reads what encodeVariant writes as the same value', () => {
  cases.forEach((c, i) => {
    it(c.name, () => {
      expect(python.decoded[i]).toEqual({ same: true, repr: expect.any(String) });
    });
  });
});

describe('decodeVariant reads what Python writes', () => {
  cases.forEach((c, i) => {
    it(c.name, () => {
      const theirs = python.encoded[i];
      const decoded = decodeVariant({ type: theirs?.type ?? -1, value: Buffer.from(theirs?.b64 ?? '', 'base64') });
      // toEqual takes NaN as equal to NaN and tells bigint from number.
      expect(decoded).toEqual('decodesTo' in c ? c.decodesTo : c.js);
    });
  });
});

describe('pythonFloatRepr', () => {
  it("prints 3,000 random doubles exactly as Python's repr does", () => {
    const ours = randomDoubles.map(pythonFloatRepr);
    const mismatches = ours.flatMap((text, i) => (text === python.reprs[i] ? [] : [`${text} vs ${python.reprs[i]}`]));
    expect(mismatches).toEqual([]);
  });
});

describe('decodeVariant edge cases', () => {
  it('a missing variant or NONE is null', () => {
    expect(decodeVariant(null)).toBeNull();
    expect(decodeVariant({ type: VariantType.NONE, value: Buffer.alloc(0) })).toBeNull();
  });

  it('encodes null as NONE with no bytes, as the reference client does', () => {
    const none = encodeVariant(null);
    expect(none.type).toBe(VariantType.NONE);
    expect(none.value.length).toBe(0);
  });

  it('accepts the type by name too', () => {
    expect(decodeVariant({ type: 'STRING', value: Buffer.from('BTC') })).toBe('BTC');
  });

  it('reads INT bytes of other lengths as Python int.from_bytes does', () => {
    expect(decodeVariant({ type: VariantType.INT, value: Buffer.from([0xff]) })).toBe(-1);
    expect(decodeVariant({ type: VariantType.INT, value: Buffer.from([0x01, 0x01]) })).toBe(257);
    expect(decodeVariant({ type: VariantType.INT, value: Buffer.alloc(0) })).toBe(0);
    const big = Buffer.alloc(9);
    big[8] = 1;
    expect(decodeVariant({ type: VariantType.INT, value: big })).toBe(2n ** 64n);
  });

  it('decodes an unsafe INT to a bigint and a safe one to a number', () => {
    expect(decodeVariant(encodeVariant(2n ** 53n))).toBe(2n ** 53n);
    expect(decodeVariant(encodeVariant(2n ** 53n - 1n))).toBe(2 ** 53 - 1);
  });

  it.each([
    ['a short DOUBLE', { type: VariantType.DOUBLE, value: Buffer.alloc(4) }, /8 bytes/],
    ['PARQUET', { type: VariantType.PARQUET, value: Buffer.from('PAR1') }, /PARQUET/],
    ['ARROW', { type: VariantType.ARROW, value: Buffer.alloc(3) }, /ARROW/],
    ['an unknown type', { type: 42, value: Buffer.alloc(3) }, /unknown variant type 42/],
    ['invalid UTF-8', { type: VariantType.STRING, value: Buffer.from([0xc3, 0x28]) }, /UTF-8/],
    ['broken JSON', { type: VariantType.JSON, value: Buffer.from('[1, 2') }, /does not parse/],
    ['JSON with trailing text', { type: VariantType.JSON, value: Buffer.from('[1] x') }, /does not parse/],
    ['a JSON NaN inside a word', { type: VariantType.JSON, value: Buffer.from('[NaNa]') }, /does not parse/],
  ])('%s is a clear VariantDecodeError', (_name, variant, reason) => {
    expect(() => decodeVariant(variant)).toThrow(VariantDecodeError);
    expect(() => decodeVariant(variant)).toThrow(reason);
  });

  it('refuses values that cannot be sent', () => {
    expect(() => encodeVariant(2n ** 63n)).toThrow(/64-bit/);
    expect(() => encodeVariant(undefined as unknown as Value)).toThrow(/cannot be sent/);
  });
});
