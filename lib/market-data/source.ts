/** One price: the close of the minute starting at `ts`. */
export interface PricePoint {
  /** Unix seconds. */
  ts: number;
  price: number;
  /** Which source answered it, when a source combines several (FallbackSource). */
  source?: string;
}

/**
 * Where prices come from. `fetch` returns the points with fromSec <= ts <= toSec, oldest first, one per
 * timestamp; minutes the source lacks are simply absent (gaps are normal, never an error).
 */
export interface PriceSource {
  readonly name: string;
  fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]>;
}

/** The error every source throws when it cannot answer; `source` names which one. */
export class PriceSourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'PriceSourceError';
  }
}

/** Checks fetch arguments the same way in every source. */
export function checkRequest(source: string, asset: unknown, fromSec: unknown, toSec: unknown): void {
  if (typeof asset !== 'string' || asset.trim() === '') {
    throw new PriceSourceError(source, `asset must be a non-empty string, got ${JSON.stringify(asset)}`);
  }
  for (const [name, value] of [
    ['fromSec', fromSec],
    ['toSec', toSec],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new PriceSourceError(source, `${name} must be unix seconds (a finite number), got ${String(value)}`);
    }
  }
  if ((fromSec as number) > (toSec as number)) {
    throw new PriceSourceError(source, `the range is backwards: from ${fromSec} is after to ${toSec}`);
  }
}

/**
 * Keeps the points inside [fromSec, toSec] with a positive finite price, sorted, one per timestamp
 * (the first one seen wins, as in the prices table).
 */
export function normalisePoints(points: Iterable<PricePoint>, fromSec: number, toSec: number): PricePoint[] {
  const byTs = new Map<number, PricePoint>();
  for (const point of points) {
    if (point.ts < fromSec || point.ts > toSec) continue;
    if (!(Number.isFinite(point.price) && point.price > 0)) continue;
    if (!byTs.has(point.ts)) byTs.set(point.ts, { ts: point.ts, price: point.price });
  }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/**
 * Splits [fromSec, toSec] into consecutive whole-second spans of at most `spanSec` (for APIs that cap a
 * request). The spans cover every whole second of the range; a fractional bound widens to the next one.
 */
export function splitRange(fromSec: number, toSec: number, spanSec: number): Array<[number, number]> {
  if (!(Number.isInteger(spanSec) && spanSec > 0)) throw new RangeError('spanSec must be a positive whole number');
  const spans: Array<[number, number]> = [];
  const last = Math.ceil(toSec);
  for (let start = Math.floor(fromSec); start <= last; start += spanSec) {
    spans.push([start, Math.min(last, start + spanSec - 1)]);
  }
  return spans;
}
