import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalisePoints, splitRange } from './source.js';

describe('splitRange', () => {
  it('covers every whole second of the range once, in spans no longer than asked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        (from, length, span) => {
          const spans = splitRange(from, from + length, span);
          expect(spans[0]![0]).toBe(from);
          expect(spans.at(-1)![1]).toBe(from + length);
          spans.forEach(([start, end], i) => {
            expect(end - start + 1).toBeLessThanOrEqual(span);
            if (i > 0) expect(start).toBe(spans[i - 1]![1] + 1);
          });
        },
      ),
    );
  });

  it('widens fractional bounds to whole seconds', () => {
    expect(splitRange(59.5, 120.2, 60)).toEqual([
      [59, 118],
      [119, 121],
    ]);
    expect(() => splitRange(0, 10, 0)).toThrow(/positive whole number/);
  });
});

describe('normalisePoints', () => {
  it('keeps points in range with positive finite prices, sorted, first one per timestamp', () => {
    expect(
      normalisePoints(
        [
          { ts: 180, price: 3 },
          { ts: 60, price: 1 },
          { ts: 60, price: 9 },
          { ts: 120, price: Number.NaN },
          { ts: 240, price: 0 },
          { ts: 300, price: 5 },
          { ts: 0, price: 7 },
        ],
        60,
        240,
      ),
    ).toEqual([
      { ts: 60, price: 1 },
      { ts: 180, price: 3 },
    ]);
  });
});
