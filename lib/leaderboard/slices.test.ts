import { describe, expect, it } from 'vitest';
import { backfillSlices, leaderboardInstantsOf } from './slices.js';

const HOUR = 3600;

describe('backfillSlices', () => {
  it('cuts [from, to] into consecutive slices, the last one shorter and closed at to', () => {
    expect(backfillSlices(0, 2.5 * HOUR, HOUR)).toEqual([
      { from: 0, to: HOUR, last: false },
      { from: HOUR, to: 2 * HOUR, last: false },
      { from: 2 * HOUR, to: 2.5 * HOUR, last: true },
    ]);
    expect(backfillSlices(10, 20, HOUR)).toEqual([{ from: 10, to: 20, last: true }]);
  });

  it('refuses an empty or reversed range, a bad slice length and too many slices, naming them', () => {
    expect(() => backfillSlices(HOUR, 0, HOUR)).toThrow(
      'to (1970-01-01T00:00:00.000Z) must be after from (1970-01-01T01:00:00.000Z)',
    );
    expect(() => backfillSlices(0, 0, HOUR)).toThrow(/must be after/);
    expect(() => backfillSlices(0, HOUR, 0)).toThrow(/slice length must be a positive number/);
    expect(() => backfillSlices(0, Number.NaN, HOUR)).toThrow(/finite/);
    expect(() => backfillSlices(0, 1000 * HOUR, HOUR, 500)).toThrow(
      /makes 1000 slices \(at most 500\): use longer slices/,
    );
  });
});

describe('leaderboardInstantsOf', () => {
  it('takes multiples of the interval since the epoch inside the slice, plus existing instants, sorted and unique', () => {
    const slice = { from: 1800, to: 3 * HOUR + 1800, last: false };
    expect(leaderboardInstantsOf(slice, HOUR, [2000, 2 * HOUR, 3 * HOUR + 1800, 100])).toEqual([
      2000,
      HOUR,
      2 * HOUR,
      3 * HOUR,
    ]);
  });

  it('includes the end of the last slice only', () => {
    expect(leaderboardInstantsOf({ from: 0, to: HOUR, last: false }, HOUR)).toEqual([0]);
    expect(leaderboardInstantsOf({ from: 0, to: HOUR, last: true }, HOUR)).toEqual([0, HOUR]);
  });

  it('refuses a bad interval', () => {
    expect(() => leaderboardInstantsOf({ from: 0, to: HOUR, last: true }, -1)).toThrow(/interval must be a positive/);
  });
});
