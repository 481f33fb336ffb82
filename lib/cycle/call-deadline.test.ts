import { describe, expect, it } from 'vitest';
import { condor, condorDemo, condorQuick } from '../game/index.js';
import { checkCallDeadline, smallestSlotGapMs } from './call-deadline.js';

const assets = (count: number) => Array.from({ length: count }, (_, i) => `A${i}`);

describe('smallestSlotGapMs', () => {
  it('is interval / assets for one group', () => {
    expect(smallestSlotGapMs([{ assets: assets(4), interval: 30 }])).toBe(7_500);
    expect(smallestSlotGapMs([{ assets: assets(7), intervalSec: 3_600 }])).toBeCloseTo(3_600_000 / 7, 6);
  });

  it('takes the slots of every group together: the smallest gcd of two steps', () => {
    // Condor: 900 s and 180 s steps; 180 s divides 900 s.
    expect(smallestSlotGapMs(condor.defaultPredictionConfigs)).toBe(180_000);
    // Steps of 60 s and 45 s: slots 0, 45, 60, 90, 120, 135, 180 ... come 15 s apart at the closest.
    expect(
      smallestSlotGapMs([
        { assets: assets(1), interval: 60 },
        { assets: assets(4), interval: 180 },
      ]),
    ).toBe(15_000);
  });

  it('matches the closest pair of slots found by listing them', () => {
    const groups = [
      { assets: assets(3), interval: 100 },
      { assets: assets(7), interval: 250 },
      { assets: assets(2), interval: 45 },
    ];
    const instants = new Set<number>();
    for (const group of groups) {
      const step = (group.interval * 1000) / group.assets.length;
      for (let k = 0; k * step < 10_000_000; k++) instants.add(Math.round(k * step * 1000) / 1000);
    }
    const sorted = [...instants].sort((a, b) => a - b);
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < sorted.length; i++)
      closest = Math.min(closest, (sorted[i] as number) - (sorted[i - 1] as number));
    expect(smallestSlotGapMs(groups)).toBeCloseTo(closest, 2);
  });

  it('is null without assets, and refuses a bad interval', () => {
    expect(smallestSlotGapMs([{ assets: [], interval: 60 }])).toBeNull();
    expect(() => smallestSlotGapMs([{ assets: assets(1), interval: 0 }])).toThrow(/interval/);
  });
});

describe('checkCallDeadline', () => {
  it('accepts a deadline shorter than the smallest slot gap', () => {
    const check = checkCallDeadline(condor.defaultPredictionConfigs, 60_000);
    expect(check).toMatchObject({ ok: true, slotGapMs: 180_000 });
    expect(check.message).toContain('shorter');
  });

  it('refuses one as long as the gap or longer, saying what to change', () => {
    const check = checkCallDeadline(condorQuick.defaultPredictionConfigs, 60_000);
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(
      /call deadline \(60 s\) is not shorter than .* \(7\.5 s; groups every 30 s over 4 asset/,
    );
    expect(check.message).toContain('below 7.5 s');
    expect(checkCallDeadline(condorDemo.defaultPredictionConfigs, 15_000).ok).toBe(false);
    expect(checkCallDeadline(condorDemo.defaultPredictionConfigs, 14_999).ok).toBe(true);
  });

  it('refuses a deadline that is not a positive number', () => {
    expect(() => checkCallDeadline([], 0)).toThrow(/deadline/);
    expect(checkCallDeadline([], 1_000).ok).toBe(true);
  });
});
