import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duePredictions, type PredictionGroup } from './due-predictions.js';

const assets = ['BTC', 'ETH', 'XAU', 'SOL'];
// docs/game.md#predict-schedule defaults: a 24h prediction every 900 s, a 1h one every 180 s, assets round-robin.
const condorDefaults: PredictionGroup[] = [
  { horizonSec: 86400, stepSec: 300, intervalSec: 3600, assets },
  { horizonSec: 3600, stepSec: 60, intervalSec: 720, assets },
];

describe('duePredictions', () => {
  it('follows the Condor cadence: one 24h asset every 900 s, one 1h asset every 180 s', () => {
    // 2026-11-29T00:00:00Z = 1795910400 = 1995456 * 900, a multiple of 3600: both groups start with BTC.
    const midnight = 1795910400;
    expect(duePredictions(midnight, 60, condorDefaults)).toEqual([
      { asset: 'BTC', horizonSec: 3600, stepSec: 60, slotSec: midnight },
      { asset: 'BTC', horizonSec: 86400, stepSec: 300, slotSec: midnight },
    ]);
    expect(duePredictions(midnight + 60, 60, condorDefaults)).toEqual([]);
    expect(duePredictions(midnight + 180, 60, condorDefaults)).toEqual([
      { asset: 'ETH', horizonSec: 3600, stepSec: 60, slotSec: midnight + 180 },
    ]);
    // 900 s is slot 5 of the 1h group (5 mod 4 = 1 -> ETH) and slot 1 of the 24h group (ETH).
    expect(duePredictions(midnight + 900, 60, condorDefaults).map((d) => [d.asset, d.horizonSec])).toEqual([
      ['ETH', 3600],
      ['ETH', 86400],
    ]);
  });

  it('over a whole interval asks each asset exactly once per group', () => {
    const start = 1795910400;
    const counts = new Map<string, number>();
    for (let t = start + 60; t <= start + 3600; t += 60) {
      for (const d of duePredictions(t, 60, condorDefaults)) {
        const key = `${d.horizonSec}/${d.asset}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const asset of assets) {
      expect(counts.get(`86400/${asset}`)).toBe(1);
      expect(counts.get(`3600/${asset}`)).toBe(5); // 3600 / 720
    }
  });

  it('handles slots shorter than the cycle (several per cycle) and never skips or repeats a slot', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 7200 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
        (count, intervalSec, periodSec, start) => {
          const names = ['A', 'B', 'C', 'D', 'E', 'F'].slice(0, count);
          const group: PredictionGroup = { horizonSec: 300, stepSec: 60, intervalSec, assets: names };
          const slots: number[] = [];
          for (let i = 1; i <= 20; i++) {
            for (const d of duePredictions(start + i * periodSec, periodSec, [group])) slots.push(d.slotSec);
          }
          const slotLength = intervalSec / count;
          const expected: number[] = [];
          for (let k = Math.floor(start / slotLength) + 1; k * slotLength <= start + 20 * periodSec; k++) {
            expected.push(k * slotLength);
          }
          expect(slots).toEqual(expected);
        },
      ),
    );
  });

  it('rejects a non-positive period or interval with a clear error', () => {
    expect(() => duePredictions(0, 0, condorDefaults)).toThrow(/period must be positive/);
    expect(() => duePredictions(0, 60, [{ ...condorDefaults[0]!, intervalSec: 0 }])).toThrow(/interval/);
  });
});
