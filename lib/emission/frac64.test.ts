import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEmission } from './checkpoint.js';
import {
  contributionWeightedShares,
  FRAC64_WHOLE,
  pythonSum,
  roundHalfEven,
  sharesFromPercents,
  tierShares,
} from './frac64.js';

const ranks = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const total = (shares: number[]) => shares.reduce((sum, share) => sum + share, 0);

describe('default tiers in frac64 (the reference vectors)', () => {
  it.each([
    [1, [1_000_000_000]],
    [2, [625_000_000, 375_000_000]],
    [3, [500_000_000, 250_000_000, 250_000_000]],
    [6, [383_333_335, 133_333_333, 133_333_333, 133_333_333, 133_333_333, 83_333_333]],
    [12, [350_000_000, ...Array(4).fill(100_000_000), ...Array(5).fill(50_000_000), 0, 0]],
  ])('N = %i', (n, expected) => {
    expect(tierShares(ranks(n))).toEqual(expected);
  });

  it('an empty ranking pays nothing', () => {
    expect(tierShares([])).toEqual([]);
  });

  it('the emission checkpoint carries the shares by cruncher index, providers at 100 % when configured', () => {
    expect(buildEmission(ranks(2), { crunch: 'CRUNCH', computeProvider: 'CP' })).toEqual({
      crunch: 'CRUNCH',
      cruncher_rewards: [
        { cruncher_index: 0, reward_pct: 625_000_000 },
        { cruncher_index: 1, reward_pct: 375_000_000 },
      ],
      compute_provider_rewards: [{ provider: 'CP', reward_pct: FRAC64_WHOLE }],
      data_provider_rewards: [],
    });
  });
});

describe('contribution-weighted emission', () => {
  it('gives the reference vector', () => {
    const shares = contributionWeightedShares([
      { rank: 1, contribution: 0.05, modelCorrelation: 0.2 },
      { rank: 2, contribution: 0.02, modelCorrelation: 0.8 },
      { rank: 3, contribution: -0.01, modelCorrelation: 0.5 },
    ]);
    expect(shares).toEqual([727_272_727, 200_000_000, 72_727_273]);
  });

  it('splits equally when every metric is flat', () => {
    expect(contributionWeightedShares([{ rank: 1 }, { rank: 1 }])).toEqual([500_000_000, 500_000_000]);
  });
});

describe('Python arithmetic', () => {
  it('rounds halves to even, as round() does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999999999999996, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });

  it('sums with compensation, as sum() does since 3.12', () => {
    expect(pythonSum([0.1, 0.2, 0.3])).toBe(0.6);
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    expect(pythonSum([1e100, 1, -1e100])).toBe(1);
  });
});

describe('frac64 shares (properties)', () => {
  it('tier shares always sum to exactly 1e9 and never go negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const shares = tierShares(ranks(n));
        expect(shares).toHaveLength(n);
        expect(total(shares)).toBe(FRAC64_WHOLE);
        for (const share of shares) expect(Number.isInteger(share) && share >= 0).toBe(true);
      }),
    );
  });

  it('any percentages, weighted shares too, sum to exactly 1e9', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (percents) => {
          expect(total(sharesFromPercents(percents.map((p) => (p / (pythonSum(percents) || 1)) * 100)))).toBe(
            FRAC64_WHOLE,
          );
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            contribution: fc.double({ min: -1, max: 1, noNaN: true }),
            modelCorrelation: fc.double({ min: -1, max: 1, noNaN: true }),
          }),
          { minLength: 1, maxLength: 50 },
        ),
        (metrics) => {
          const shares = contributionWeightedShares(metrics.map((m, i) => ({ ...m, rank: i + 1 })));
          expect(total(shares)).toBe(FRAC64_WHOLE);
        },
      ),
    );
  });
});
