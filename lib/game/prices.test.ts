import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bisectLeftBelow, PriceSeries, seriesFromTickData } from './prices.js';

describe('PriceSeries closest-price rule', () => {
  const series = PriceSeries.fromPoints([
    [120, 12],
    [0, 10],
    [60, 11],
  ]);

  it('sorts the points', () => {
    expect([...series.times]).toEqual([0, 60, 120]);
    expect([...series.prices]).toEqual([10, 11, 12]);
  });

  it('picks the nearer neighbour, the earlier one on a tie', () => {
    expect(series.closest(29.9)).toEqual({ ts: 0, price: 10 });
    expect(series.closest(30)).toEqual({ ts: 0, price: 10 }); // exactly between 0 and 60
    expect(series.closest(30.1)).toEqual({ ts: 60, price: 11 });
    expect(series.closest(90)).toEqual({ ts: 60, price: 11 });
    expect(series.closest(60)).toEqual({ ts: 60, price: 11 });
  });

  it('clamps to the first and last points outside the range', () => {
    expect(series.closest(-1e9)).toEqual({ ts: 0, price: 10 });
    expect(series.closest(1e9)).toEqual({ ts: 120, price: 12 });
    expect(series.covers(120)).toBe(true);
    expect(series.covers(120.5)).toBe(false);
  });

  it('is empty-safe', () => {
    const empty = PriceSeries.fromPoints([]);
    expect(empty.closest(5)).toBeNull();
    expect(empty.covers(0)).toBe(false);
  });

  it('keeps the last price given for a repeated timestamp', () => {
    const repeated = PriceSeries.fromPoints([
      [0, 1],
      [0, 2],
    ]);
    expect([...repeated.prices]).toEqual([2]);
  });

  it('rejects bad points with a clear message', () => {
    expect(() => PriceSeries.fromPoints([[0, 0]], 'BTC')).toThrow(
      'price point 0 of BTC at 0 must be a positive number, got 0',
    );
    expect(() => PriceSeries.fromPoints([[Number.NaN, 1]], 'BTC')).toThrow('invalid timestamp');
    expect(() => PriceSeries.fromPoints([[1] as unknown as [number, number]], 'BTC')).toThrow(
      'must be [timestamp, price]',
    );
    expect(() => seriesFromTickData([], 'prices.json')).toThrow('prices.json must be an object');
    expect(() => seriesFromTickData({ BTC: 3 }, 'prices.json')).toThrow('prices of BTC must be a list');
  });
});

describe('bisectLeftBelow', () => {
  it('equals a plain bisect_left for any sorted array, target and valid upper bound', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { maxLength: 60 }),
        fc.double({ min: -1100, max: 1100, noNaN: true }),
        fc.nat(),
        (values, t, upperSeed) => {
          const times = Float64Array.from(values).sort();
          let expected = 0;
          while (expected < times.length && times[expected]! < t) expected++;
          // Any upper bound at or above the answer is valid.
          const upper = expected + (upperSeed % (times.length - expected + 1));
          return bisectLeftBelow(times, t, upper) === expected;
        },
      ),
    );
  });
});
