// The `commons.Variant` value encoding of docs/protocol.md#variant-encoding, byte for byte as model-runner's
// datatype_transformer writes and reads it.
import { parsePythonJson, pythonJsonDumps } from './python-json.js';
import type { Value } from './types.js';

export const VariantType = { NONE: 0, DOUBLE: 1, INT: 2, STRING: 3, PARQUET: 4, ARROW: 5, JSON: 6 } as const;
export type VariantTypeName = keyof typeof VariantType;

export interface Variant {
  type: number;
  value: Buffer;
}

/** Bytes a model sent that cannot be turned into a value: the call counts as FAILED. */
export class VariantDecodeError extends Error {
  override name = 'VariantDecodeError';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The Variant Python would build for the equivalent value: null -> NONE, an integer number, bigint
 * or boolean -> INT (8 bytes little-endian, as Python's bool), another number -> DOUBLE,
 * string -> STRING, array or object -> JSON (as `json.dumps` writes it).
 */
export function encodeVariant(value: Value): Variant {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return encodeInt(BigInt(value));
      return encodeDouble(value);
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) {
        throw new RangeError(`${value} does not fit the 64-bit INT variant`);
      }
      return encodeInt(value);
    case 'boolean':
      return encodeInt(value ? 1n : 0n);
    case 'string':
      return { type: VariantType.STRING, value: Buffer.from(value, 'utf8') };
    case 'object':
      if (value === null) return { type: VariantType.NONE, value: EMPTY };
      return { type: VariantType.JSON, value: Buffer.from(pythonJsonDumps(value), 'utf8') };
    default:
      throw new TypeError(`a ${typeof value} cannot be sent to a model`);
  }
}

function encodeInt(value: bigint): Variant {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigInt64LE(value);
  return { type: VariantType.INT, value: bytes };
}

function encodeDouble(value: number): Variant {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeDoubleLE(value);
  return { type: VariantType.DOUBLE, value: bytes };
}

/**
 * The value a Variant holds. A missing Variant is Python's `None` (the server sends none for it).
 * INT decodes to a number when it is a safe integer, else to a bigint. Throws VariantDecodeError for
 * PARQUET, ARROW, unknown types and bytes that do not decode.
 */
export function decodeVariant(
  variant: { type?: number | string | null; value?: Uint8Array | null } | null | undefined,
): Value {
  if (!variant) return null;
  const type = typeof variant.type === 'string' ? VariantType[variant.type as VariantTypeName] : (variant.type ?? 0);
  const bytes = variant.value ?? EMPTY;
  switch (type) {
    case VariantType.NONE:
      return null;
    case VariantType.DOUBLE:
      if (bytes.length !== 8) throw new VariantDecodeError(`a DOUBLE needs 8 bytes, the model sent ${bytes.length}`);
      return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readDoubleLE(0);
    case VariantType.INT:
      return decodeInt(bytes);
    case VariantType.STRING:
      return decodeUtf8(bytes, 'STRING');
    case VariantType.JSON:
      try {
        return parsePythonJson(decodeUtf8(bytes, 'JSON')) as Value;
      } catch (error) {
        if (error instanceof VariantDecodeError) throw error;
        throw new VariantDecodeError(`the model's JSON answer does not parse: ${(error as Error).message}`);
      }
    case VariantType.PARQUET:
    case VariantType.ARROW:
      throw new VariantDecodeError(`the model answered with a ${variantTypeName(type)} value, which is not supported`);
    default:
      throw new VariantDecodeError(`the model answered with an unknown variant type ${String(variant.type)}`);
  }
}

/** Python reads INT bytes of any length (`int.from_bytes`, little-endian, signed). */
function decodeInt(bytes: Uint8Array): number | bigint {
  let value: bigint;
  if (bytes.length === 8) {
    value = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigInt64LE(0);
  } else {
    value = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
    const top = bytes[bytes.length - 1];
    if (top !== undefined && top >= 0x80) value -= 1n << BigInt(bytes.length * 8);
  }
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new VariantDecodeError(`the model's ${what} answer is not valid UTF-8`);
  }
}

export function variantTypeName(type: number): string {
  const entry = Object.entries(VariantType).find(([, code]) => code === type);
  return entry ? entry[0] : `type ${type}`;
}
