// One asset's price history, sorted, with the game's closest-price rule (docs/game.md#prices): for time t the
// nearer of the two neighbouring points, the earlier one on a tie; before the first point the first,
// after the last the last. Times are unix seconds (fractional allowed) everywhere in lib/game.

/** `{asset: [[ts, price], ...]}`: the tick format models receive, also used for price files. */
export type TickData = Record<string, Array<[number, number]>>;

export class PriceSeries {
  /** Unix seconds, strictly increasing. */
  readonly times: Float64Array;
  readonly prices: Float64Array;
  private logs: Float64Array | undefined;

  private constructor(times: Float64Array, prices: Float64Array) {
    this.times = times;
    this.prices = prices;
  }

  /**
   * From [ts, price] points in any order. A repeated timestamp keeps the last price given, as the
   * models' PriceStore does. Throws a clear error on a non-finite time or a price that is not > 0.
   */
  static fromPoints(points: ReadonlyArray<readonly [number, number]>, asset = 'the asset'): PriceSeries {
    const latest = new Map<number, number>();
    for (let i = 0; i < points.length; i++) {
      const point = points[i];
      if (!Array.isArray(point) || point.length < 2) {
        throw new Error(`price point ${i} of ${asset} must be [timestamp, price], got ${JSON.stringify(point)}`);
      }
      const [ts, price] = point;
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        throw new Error(`price point ${i} of ${asset} has an invalid timestamp ${JSON.stringify(ts)}`);
      }
      if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0) {
        throw new Error(
          `price point ${i} of ${asset} at ${ts} must be a positive number, got ${JSON.stringify(price)}`,
        );
      }
      latest.set(ts, price);
    }
    const times = Float64Array.from(latest.keys()).sort();
    const prices = new Float64Array(times.length);
    for (let i = 0; i < times.length; i++) prices[i] = latest.get(times[i]!)!;
    return new PriceSeries(times, prices);
  }

  /**
   * From the arrays of another PriceSeries (already sorted and checked), e.g. sent to a scoring
   * thread: no second validation or sort.
   */
  static fromSorted(times: Float64Array, prices: Float64Array): PriceSeries {
    if (times.length !== prices.length) {
      throw new Error(`a price series needs as many prices as times, got ${prices.length} and ${times.length}`);
    }
    return new PriceSeries(times, prices);
  }

  get length(): number {
    return this.times.length;
  }

  /** The last timestamp, or -Infinity when empty. */
  get lastTime(): number {
    return this.times.length === 0 ? Number.NEGATIVE_INFINITY : this.times[this.times.length - 1]!;
  }

  /** True when the series reaches t: only then is a prediction resolving at t scored (no stale last prices). */
  covers(t: number): boolean {
    return this.lastTime >= t;
  }

  /** ln(price) per point, computed once. */
  logPrices(): Float64Array {
    if (this.logs === undefined) {
      this.logs = new Float64Array(this.prices.length);
      for (let i = 0; i < this.prices.length; i++) this.logs[i] = Math.log(this.prices[i]!);
    }
    return this.logs;
  }

  /** The first index whose time is >= t (the length when none is), like Python's bisect_left. */
  bisectLeft(t: number): number {
    return bisectLeftBelow(this.times, t, this.times.length);
  }

  /** Index of the closest point to t by the game's rule; -1 when the series is empty. */
  closestIndex(t: number): number {
    return closestFromInsertion(this.times, t, this.bisectLeft(t));
  }

  /** The closest point to t, or null when the series is empty. */
  closest(t: number): { ts: number; price: number } | null {
    const index = this.closestIndex(t);
    return index < 0 ? null : { ts: this.times[index]!, price: this.prices[index]! };
  }
}

/**
 * bisect_left restricted to [0, upper]: callers walking backwards in time pass the previous
 * insertion point, so the search starts near the answer (galloping down, then binary search).
 */
export function bisectLeftBelow(times: Float64Array, t: number, upper: number): number {
  let high = upper;
  let distance = 1;
  // Gallop: find low with times[low] < t (or low = -1), doubling the distance each time.
  let low = high - 1;
  while (low >= 0 && times[low]! >= t) {
    high = low;
    distance *= 2;
    low = high - distance;
  }
  if (low < -1) low = -1;
  // Invariant: times[low] < t (or low = -1) and times[high] >= t (or high = upper).
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (times[middle]! >= t) high = middle;
    else low = middle;
  }
  return high;
}

/** The closest-price rule applied to a bisect_left insertion point. */
export function closestFromInsertion(times: Float64Array, t: number, insertion: number): number {
  const n = times.length;
  if (n === 0) return -1;
  if (insertion === 0) return 0;
  if (insertion === n) return n - 1;
  const before = insertion - 1;
  return t - times[before]! <= times[insertion]! - t ? before : insertion;
}

/**
 * Parses tick-format data into one series per asset, with a clear error naming what is wrong.
 * `source` names the input in messages (e.g. a file name).
 */
export function seriesFromTickData(data: unknown, source = 'the prices'): Map<string, PriceSeries> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${source} must be an object {asset: [[timestamp, price], ...]}`);
  }
  const result = new Map<string, PriceSeries>();
  for (const [asset, points] of Object.entries(data)) {
    if (!Array.isArray(points)) throw new Error(`${source}: prices of ${asset} must be a list of [timestamp, price]`);
    result.set(asset, PriceSeries.fromPoints(points as Array<[number, number]>, asset));
  }
  return result;
}
