import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupWindowScores, modelWindowScores, type ScoredPrediction } from './windows.js';

const DAY = 86_400;
const windows = { recent: DAY, steady: 3 * DAY, anchor: 7 * DAY };
const asOf = 100 * DAY;

function scored(modelId: string, daysAgo: number, value: number | null, asset = 'BTC'): ScoredPrediction {
  return { modelId, asset, horizon: 3600, step: 60, resolvableAt: asOf - daysAgo * DAY, value };
}

describe('groupWindowScores', () => {
  it('means each window over [asOf - length, asOf] once the group is old enough', () => {
    // First scored prediction 8 days ago: all three windows exist.
    // recent [asOf-1d, asOf]: 0.5 and 1 -> 0.75; steady adds the 2-day-old 4 -> 5.5/3; anchor adds the 6-day-old 10 -> 15.5/4.
    const rows = groupWindowScores(
      [scored('m', 8, 100), scored('m', 6, 10), scored('m', 2, 4), scored('m', 1, 0.5), scored('m', 0, 1)],
      asOf,
      windows,
    );
    expect(rows).toEqual([
      { modelId: 'm', asset: 'BTC', horizon: 3600, step: 60, recent: 0.75, steady: 5.5 / 3, anchor: 15.5 / 4 },
    ]);
  });

  it('leaves a window null until the first scored prediction is at least that old', () => {
    // First one 2 days ago: recent exists (2 >= 1), steady (3) and anchor (7) do not.
    const rows = groupWindowScores([scored('m', 2, 3), scored('m', 0.5, 1)], asOf, windows);
    expect(rows[0]).toMatchObject({ recent: 1, steady: null, anchor: null });
    // Exactly one window old counts as old enough.
    expect(groupWindowScores([scored('m', 1, 3)], asOf, windows)[0]).toMatchObject({ recent: 3 });
  });

  it('ignores predictions resolving after asOf and null values (SQL AVG), but a failed penalty value counts', () => {
    const rows = groupWindowScores(
      [scored('m', 2, 3), scored('m', 0.5, null), scored('m', 0.2, -1), scored('m', -1, 1000)],
      asOf,
      windows,
    );
    expect(rows[0]).toMatchObject({ recent: -1 });
  });

  it('drops groups with nothing in the longest window (vanished groups do not keep stale scores)', () => {
    expect(groupWindowScores([scored('m', 8, 3)], asOf, windows)).toEqual([]);
  });

  it('gives a window with no values a null mean even when the group is old enough', () => {
    const rows = groupWindowScores([scored('m', 5, 3)], asOf, windows);
    expect(rows[0]).toMatchObject({ recent: null, steady: null, anchor: null });
    const older = groupWindowScores([scored('m', 6, 3), scored('m', 5, 2)], asOf, { ...windows, recent: 5.5 * DAY });
    expect(older[0]).toMatchObject({ recent: 2 });
  });

  it('is independent of input order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            model: fc.constantFrom('a', 'b'),
            asset: fc.constantFrom('BTC', 'ETH'),
            daysAgo: fc.double({ min: -1, max: 10, noNaN: true }),
            value: fc.option(fc.integer({ min: -5, max: 5 })),
          }),
          { maxLength: 30 },
        ),
        (items) => {
          const scores = items.map((i) => scored(i.model, i.daysAgo, i.value, i.asset));
          const sort = (rows: ReturnType<typeof groupWindowScores>) =>
            [...rows].sort((x, y) => `${x.modelId}${x.asset}`.localeCompare(`${y.modelId}${y.asset}`));
          // Integer values: sums are exact whatever the order.
          expect(sort(groupWindowScores([...scores].reverse(), asOf, windows))).toEqual(
            sort(groupWindowScores(scores, asOf, windows)),
          );
        },
      ),
    );
  });
});

describe('modelWindowScores', () => {
  it('is the unweighted mean over groups, null for a window where any group is null', () => {
    const rows = modelWindowScores([
      { modelId: 'm', asset: 'BTC', horizon: 3600, step: 60, recent: 1, steady: 2, anchor: null },
      { modelId: 'm', asset: 'ETH', horizon: 3600, step: 60, recent: 3, steady: 0, anchor: 5 },
      { modelId: 'n', asset: 'ETH', horizon: 3600, step: 60, recent: 0, steady: 0, anchor: 0 },
    ]);
    expect(rows).toEqual([
      { modelId: 'm', recent: 2, steady: 1, anchor: null },
      { modelId: 'n', recent: 0, steady: 0, anchor: 0 },
    ]);
  });
});
