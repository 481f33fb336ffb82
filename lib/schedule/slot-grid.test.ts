import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duePredictions, type PredictionGroup } from './due-predictions.js';
import { slotsBetween } from './slot-grid.js';

const assets = ['BTC', 'ETH', 'XAU', 'SOL'];
const condor: PredictionGroup[] = [
  { horizonSec: 86400, stepSec: 300, intervalSec: 3600, assets },
  { horizonSec: 3600, stepSec: 60, intervalSec: 720, assets },
];
const quick: PredictionGroup[] = [{ horizonSec: 60, stepSec: 60, intervalSec: 30, assets }];

describe('slotsBetween', () => {
  it('lists the condor-quick grid: one asset every 7.5 s, in turn', () => {
    const start = 1795910400; // a multiple of 30
    const slots = slotsBetween(start, start + 30, quick);
    expect(slots.map((slot) => [slot.slotSec - start, slot.due.map((d) => d.asset)])).toEqual([
      [0, ['BTC']],
      [7.5, ['ETH']],
      [15, ['XAU']],
      [22.5, ['SOL']],
    ]);
  });

  it('merges groups whose slots fall on the same instant into one slot', () => {
    const midnight = 1795910400;
    const [first, second] = slotsBetween(midnight, midnight + 181, condor);
    expect(first).toEqual({
      slotSec: midnight,
      due: [
        { asset: 'BTC', horizonSec: 3600, stepSec: 60, slotSec: midnight },
        { asset: 'BTC', horizonSec: 86400, stepSec: 300, slotSec: midnight },
      ],
    });
    expect(second?.slotSec).toBe(midnight + 180);
  });

  it('asks exactly what consecutive cycles would, whatever the grid: no slot skipped, none twice', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            intervalSec: fc.integer({ min: 1, max: 3600 }),
            count: fc.integer({ min: 1, max: 5 }),
            horizonSec: fc.constantFrom(60, 300, 3600),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
        fc.integer({ min: 1, max: 7200 }),
        (specs, start, span) => {
          const groups: PredictionGroup[] = specs.map((spec, index) => ({
            horizonSec: spec.horizonSec + index, // distinct groups
            stepSec: 60,
            intervalSec: spec.intervalSec,
            assets: ['A', 'B', 'C', 'D', 'E'].slice(0, spec.count),
          }));
          const fromSlots = slotsBetween(start, start + span, groups).flatMap((slot) => slot.due);
          // The same window as one cycle: (start - ε, start + span - ε] = [start, start + span) on the grid.
          const fromCycle = duePredictions(start + span - 1e-6, span, groups).filter(
            (d) => d.slotSec >= start && d.slotSec < start + span,
          );
          const key = (d: { slotSec: number; horizonSec: number; asset: string }) =>
            `${d.slotSec}/${d.horizonSec}/${d.asset}`;
          expect(fromSlots.map(key).sort()).toEqual(fromCycle.map(key).sort());
        },
      ),
    );
  });
});
