import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyntheticSource, syntheticAssets } from './synthetic.js';

const always = () => Number.POSITIVE_INFINITY;
const T0 = 1_750_000_020; // a whole minute
const DAY = 86_400;

function logReturns(prices: number[]): number[] {
  return prices.slice(1).map((price, i) => Math.log(price / prices[i]!));
}

function standardDeviation(values: number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
}

describe('SyntheticSource', () => {
  it('gives one price per whole minute inside the range', async () => {
    const points = await new SyntheticSource({ clock: always }).fetch('BTC', T0 - 30, T0 + 600 + 59);
    expect(points.map((point) => point.ts)).toEqual(Array.from({ length: 11 }, (_, i) => T0 + i * 60));
    expect(points.every((point) => Number.isFinite(point.price) && point.price > 0)).toBe(true);
  });

  it('gives the same price for a minute whatever range is asked, and across instances', async () => {
    const source = new SyntheticSource({ seed: 7, clock: always });
    const wide = await source.fetch('ETH', T0 - 40 * DAY, T0 + 2 * DAY);
    const byTs = new Map(wide.map((point) => [point.ts, point.price]));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -40 * 1440, max: 2 * 1440 }),
        fc.integer({ min: 0, max: 300 }),
        async (start, length) => {
          const from = T0 + start * 60;
          const to = Math.min(from + length * 60, T0 + 2 * DAY);
          const fresh = new SyntheticSource({ seed: 7, clock: always });
          for (const point of await fresh.fetch('ETH', from, to)) expect(point.price).toBe(byTs.get(point.ts));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is continuous across the internal block boundaries and before the origin', async () => {
    // The walk is built in blocks of 65,536 minutes from 2024-01-01; a seam would show as a jump.
    const source = new SyntheticSource({ seed: 3, clock: always });
    const origin = 1_704_067_200;
    for (const seam of [origin, origin + 65_536 * 60, origin + 9 * 65_536 * 60, origin - 65_536 * 60]) {
      const points = await source.fetch('BTC', seam - 3600, seam + 3600);
      const biggest = Math.max(...logReturns(points.map((point) => point.price)).map(Math.abs));
      expect(biggest).toBeLessThan(6 * syntheticAssets.BTC!.sigmaPerMinute);
    }
  });

  it('depends on the seed and the asset', async () => {
    const [a, b, c] = await Promise.all([
      new SyntheticSource({ seed: 1, clock: always }).fetch('BTC', T0, T0 + 3600),
      new SyntheticSource({ seed: 2, clock: always }).fetch('BTC', T0, T0 + 3600),
      new SyntheticSource({ seed: 1, clock: always, assets: { ALT: syntheticAssets.BTC! } }).fetch(
        'ALT',
        T0,
        T0 + 3600,
      ),
    ]);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  it.each(Object.entries({ BTC: 0.0006, ETH: 0.0008, SOL: 0.0012, XAU: 0.0002 }))(
    'moves %s with a one-minute volatility near %f and no memory',
    async (asset, sigma) => {
      const points = await new SyntheticSource({ seed: 11, clock: always }).fetch(asset, T0, T0 + 14 * DAY);
      const returns = logReturns(points.map((point) => point.price));
      // 20,000 draws: the sample deviation is within a few percent of sigma.
      expect(standardDeviation(returns) / sigma).toBeGreaterThan(0.95);
      expect(standardDeviation(returns) / sigma).toBeLessThan(1.05);
      const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
      let lagged = 0;
      for (let i = 1; i < returns.length; i += 1) lagged += (returns[i]! - mean) * (returns[i - 1]! - mean);
      expect(Math.abs(lagged / (returns.length * standardDeviation(returns) ** 2))).toBeLessThan(0.05);
    },
  );

  it('gives nothing after its clock, so a live demo sees the market unfold', async () => {
    const source = new SyntheticSource({ clock: () => T0 + 150 });
    const points = await source.fetch('SOL', T0, T0 + 3600);
    expect(points.map((point) => point.ts)).toEqual([T0, T0 + 60, T0 + 120]);
  });

  it('rejects bad parameters and oversized requests clearly', async () => {
    expect(() => new SyntheticSource({ assets: { X: { start: 0, sigmaPerMinute: 0.1 } } })).toThrow(
      /asset X needs a positive start price/,
    );
    await expect(new SyntheticSource({ clock: always }).fetch('BTC', 0, 1e12)).rejects.toThrow(/ask at most/);
    await expect(new SyntheticSource().fetch('BTC', T0, T0 - 60)).rejects.toThrow(/the range is backwards/);
  });
});
