import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScorablePrediction } from '../definition.js';
import { PriceSeries } from '../prices.js';
import {
  crpsFailurePenalty,
  crpsGrid,
  crpsIntegral,
  crpsOverallScore,
  crpsStepScale,
  normaliseRoundCrps,
  percentile,
  scoreCrps,
} from './crps.js';
import { compileDensity, type Pdf } from './densities/index.js';

const normal = (loc: number, scale: number) => ({ type: 'builtin', name: 'norm', params: { loc, scale } });
const zero: Pdf = () => 0;

function pdfOf(spec: unknown): Pdf {
  const compiled = compileDensity(spec);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.pdf;
}

function prediction(overrides: Partial<ScorablePrediction>): ScorablePrediction {
  return {
    asset: 'BTC',
    horizon: 120,
    step: 60,
    status: 'SUCCESS',
    distributions: [],
    resolvableAt: 600,
    ...overrides,
  };
}

describe('the CRPS grid and integral (hand-derived)', () => {
  it('is numpy.linspace: symmetric, exact end points, spacing 2h/(n-1)', () => {
    const grid = crpsGrid(1500, 256);
    expect(grid[0]).toBe(-1500);
    expect(grid[255]).toBe(1500);
    expect(grid[1]! - grid[0]!).toBeCloseTo(3000 / 255, 12);
    expect(grid[128]).toBeCloseTo(1500 / 255, 9); // 0 sits halfway between points 127 and 128
  });

  it('K = 1 up to the 300 s base step and sqrt(step / 300) above it', () => {
    expect(crpsStepScale(60)).toBe(1);
    expect(crpsStepScale(300)).toBe(1);
    expect(crpsStepScale(3600)).toBe(Math.sqrt(12));
  });

  it('with no mass on the grid (cdf = 0) equals the trapezoid of the indicator', () => {
    // x = 0 lies between grid[127] and grid[128] = dt/2: the indicator is 1 from 128 on, so the
    // integral is (h - grid[128]) plus half the interval [127, 128]: h - dt/2 + dt/2 = h.
    const grid = crpsGrid(1500, 256);
    expect(crpsIntegral(zero, 0, grid)).toBeCloseTo(1500, 9);
    // x = grid[200] exactly: the full intervals from 200 on, plus half of [199, 200].
    const dt = grid[1]! - grid[0]!;
    expect(crpsIntegral(zero, grid[200]!, grid)).toBeCloseTo(1500 - grid[200]! + dt / 2, 9);
    // x beyond the grid: the indicator is 0 everywhere and so is the cdf.
    expect(crpsIntegral(zero, 2000, grid)).toBe(0);
  });

  it('with all mass in the first grid cell (cdf = 1 throughout) equals the trapezoid of 1 - indicator', () => {
    // pdf = 1/dt at grid[0] only: cumsum · dt = 1 from the first point on. For x = 0 the squared
    // difference is 1 up to 127 and 0 from 128: (grid[127] + h) + dt/2 = h - dt/2 + dt/2 = h.
    const grid = crpsGrid(4, 256);
    const dt = grid[1]! - grid[0]!;
    const spike: Pdf = (x) => (x === grid[0] ? 1 / dt : 0);
    expect(crpsIntegral(spike, 0, grid)).toBeCloseTo(4, 12);
  });

  it('is smaller for a forecast centred on the outcome than for one off it, and 0 <= CRPS <= 2h', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.double({ min: 20, max: 500, noNaN: true }),
        (x, scale) => {
          const grid = crpsGrid(1500, 256);
          const centred = crpsIntegral(pdfOf(normal(x, scale)), x, grid);
          const off = crpsIntegral(pdfOf(normal(x + 3 * scale, scale)), x, grid);
          return centred < off && centred >= 0 && off <= 3000;
        },
      ),
    );
  });
});

describe('CRPS score of a prediction', () => {
  // Points a minute apart; the steps are 480 -> 540 (+10) and 540 -> 600 (-11).
  const prices = PriceSeries.fromPoints(
    Array.from({ length: 11 }, (_, i): [number, number] => [i * 60, i === 9 ? 110 : i === 10 ? 99 : 100]),
  );

  it('is the sum of the per-step CRPS of the price differences, divided by t_a', () => {
    const distributions = [normal(0, 300), normal(5, 200)];
    const grid = crpsGrid(1500, 256);
    const expected =
      (crpsIntegral(pdfOf(distributions[0]), 10, grid) + crpsIntegral(pdfOf(distributions[1]), -11, grid)) / 1500;
    const result = scoreCrps(prediction({ distributions }), prices);
    expect(result.success).toBe(true);
    expect(result.score).toBeCloseTo(expected, 14);
  });

  it('uses K·t_a for long steps and the XAU -> XAUT alias', () => {
    const distributions = [normal(0, 1)];
    const result = scoreCrps(prediction({ asset: 'XAU', horizon: 600, step: 600, distributions }), prices);
    const grid = crpsGrid(33 * Math.sqrt(2), 256);
    // 0 -> 600 resolving at 600: the price moved from 100 to 99.
    expect(result.score).toBeCloseTo(crpsIntegral(pdfOf(distributions[0]), -1, grid) / 33, 14);
  });

  it('fails with a reason for an asset without a CRPS range, and for nothing to score', () => {
    expect(
      scoreCrps(prediction({ asset: 'DOGE', distributions: [normal(0, 1), normal(0, 1)] }), prices).reason,
    ).toMatch(/^No CRPS range is defined for asset DOGE/);
    const stale = PriceSeries.fromPoints([[0, 100]]);
    expect(scoreCrps(prediction({ distributions: [normal(0, 1), normal(0, 1)] }), stale).reason).toMatch(
      /^No step could be scored/,
    );
  });

  it('gives failed predictions the worst successful CRPS of the batch', () => {
    expect(crpsFailurePenalty([0.4, 0.9, 0.1])).toBe(0.9);
    expect(crpsFailurePenalty([])).toBeNull();
  });
});

describe('overall CRPS score across assets', () => {
  it("reproduces crunch-synth's public test values", () => {
    expect(crpsOverallScore({ BTC: [0.8], SOL: [0.5] })).toBe(0.6839358161905822);
    expect(crpsOverallScore({ BTC: [0.6, 0.8], ETH: [0.4, 0.6] })).toBe(0.6172032968478249);
  });

  it('is null with no scores or with an asset that has no weight, and ignores empty assets', () => {
    expect(crpsOverallScore({})).toBeNull();
    expect(crpsOverallScore({ BTC: [0.8], DOGE: [0.1] })).toBeNull();
    expect(crpsOverallScore({ BTC: [0.8], ETH: [] })).toBe(0.8);
    // XAU counts with XAUT's weight: (1 · 1 + 1.7370922597118699 · 2) / 2.7370922597118699.
    expect(crpsOverallScore({ BTC: [1], XAU: [2] })).toBeCloseTo((1 + 1.7370922597118699 * 2) / 2.7370922597118699, 15);
  });
});

describe('per-round normalisation', () => {
  it('maps best -> 1, the 95th percentile and worse -> 0, linear between', () => {
    // Values 1..21: numpy's 95th percentile of 1..21 is 20, so 1 -> 1, 10 -> (20 - 10) / (20 - 1), 20 and 21 -> 0.
    const values = Array.from({ length: 21 }, (_, i) => i + 1);
    expect(percentile(values, 95)).toBe(20);
    const scores = normaliseRoundCrps(values);
    expect(scores[0]).toBe(1);
    expect(scores[9]).toBeCloseTo(10 / 19, 15);
    expect(scores[19]).toBe(0);
    expect(scores[20]).toBe(0);
  });

  it("counts a missing or invalid CRPS as the round's worst", () => {
    // [1, 2, 3, null, NaN] -> [1, 2, 3, 3, 3]; the 95th percentile is 3 (position 3.8 of equal values).
    expect(normaliseRoundCrps([1, 2, 3, null, Number.NaN])).toEqual([1, 0.5, 0, 0, 0]);
  });

  it('handles degenerate rounds', () => {
    expect(normaliseRoundCrps([])).toEqual([]);
    expect(normaliseRoundCrps([null])).toEqual([0]);
    expect(normaliseRoundCrps([0.5, 0.5])).toEqual([1, 1]);
  });
});
