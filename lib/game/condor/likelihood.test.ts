import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreBatch } from '../batch.js';
import type { ScorablePrediction } from '../definition.js';
import { PriceSeries } from '../prices.js';
import { likelihoodFailurePenalty, likelihoodScorer, scoreLikelihood } from './likelihood.js';

const normal = (loc: number, scale: number) => ({ type: 'builtin', name: 'norm', params: { loc, scale } });
const benchmarkDensity = (loc: number, scale: number) => ({
  type: 'mixture',
  components: [{ density: normal(loc, scale), weight: 1 }],
});
const phi = (x: number, loc: number, scale: number) =>
  Math.exp(-0.5 * ((x - loc) / scale) ** 2) / (scale * Math.sqrt(2 * Math.PI));

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

// One point a minute from 0 to 600; the prediction covers 480 -> 540 -> 600.
const minutePrices = PriceSeries.fromPoints(
  Array.from({ length: 11 }, (_, i): [number, number] => [i * 60, i === 8 ? 100 : i === 9 ? 110 : i === 10 ? 99 : 100]),
);

describe('likelihood score (hand-derived)', () => {
  it('is the mean pdf of the observed log-returns, density k on step k', () => {
    // Density 1 (the last) sees ln(99/110) over 540 -> 600, density 0 sees ln(110/100) over 480 -> 540.
    const distributions = [normal(0, 0.1), benchmarkDensity(0.01, 0.05)];
    const expected = (phi(Math.log(110 / 100), 0, 0.1) + phi(Math.log(99 / 110), 0.01, 0.05)) / 2;
    const result = scoreLikelihood(prediction({ distributions }), minutePrices);
    expect(result.success).toBe(true);
    expect(result.score).toBeCloseTo(expected, 12);
  });

  it('matches prices by the closest rule with fractional seconds and ties going to the earlier point', () => {
    const distributions = [normal(0, 0.1), benchmarkDensity(0.01, 0.05)];
    const exact = scoreLikelihood(prediction({ distributions }), minutePrices).score;
    // 600.4 -> 600 and 540.4 -> 540; 630 is halfway between 600 and 660 (no point at 660: clamps to 600),
    // 570 halfway between 540 and 600 -> 540, 510 -> 480: the same pairs every time.
    expect(scoreLikelihood(prediction({ distributions, resolvableAt: 600.4 }), minutePrices).score).toBe(exact);
    expect(scoreLikelihood(prediction({ distributions, resolvableAt: 570 }), minutePrices).score).not.toBe(exact);
    expect(scoreLikelihood(prediction({ distributions, resolvableAt: 630 }), minutePrices).score).toBe(exact);
  });

  it('skips steps whose two closest points are the same point, without penalty', () => {
    // Points only at 0 and 600. Walking back from 600 in 60 s steps, only the step ending at 360
    // (closest 600) and starting at 300 (a tie -> 0) spans two points: density 0 alone is scored.
    const sparse = PriceSeries.fromPoints([
      [0, 100],
      [600, 121],
    ]);
    const distributions = [0, 1, 2, 3, 4].map((k) => normal(k, 0.5));
    const result = scoreLikelihood(prediction({ horizon: 300, distributions }), sparse);
    expect(result.score).toBeCloseTo(phi(Math.log(121 / 100), 0, 0.5), 14);
  });

  it('scores constant prices (x = 0 between distinct points) rather than skipping them', () => {
    const flat = PriceSeries.fromPoints(Array.from({ length: 11 }, (_, i): [number, number] => [i * 60, 50]));
    const result = scoreLikelihood(prediction({ distributions: [normal(0, 0.01), normal(0, 0.01)] }), flat);
    expect(result.score).toBeCloseTo(phi(0, 0, 0.01), 12);
  });
});

describe('likelihood failures carry a reason', () => {
  it('non-SUCCESS status, in upstream wording', () => {
    expect(scoreLikelihood(prediction({ status: 'TIMEOUT' }), minutePrices)).toEqual({
      success: false,
      score: null,
      reason: 'The prediction not succeed PredictionStatus.TIMEOUT',
    });
  });

  it('a body that is not a list (upstream crashes on it forever)', () => {
    const result = scoreLikelihood(prediction({ distributions: { not: 'a list' } }), minutePrices);
    expect(result.reason).toBe('The prediction is not a list of densities (got {"not":"a list"})');
  });

  it('a wrong step count', () => {
    const result = scoreLikelihood(prediction({ distributions: [normal(0, 1)] }), minutePrices);
    expect(result.reason).toBe(
      'The prediction does not have the correct number of steps: expected 2 densities (horizon 120 / step 60), got 1',
    );
  });

  it('an invalid density, with where it is', () => {
    const result = scoreLikelihood(prediction({ distributions: [normal(0, 1), normal(0, 0)] }), minutePrices);
    expect(result.reason).toBe('distributions[1]: norm needs scale > 0, got 0');
  });

  it('prices that never move within the window: every step skipped', () => {
    const stale = PriceSeries.fromPoints([[0, 100]]);
    const result = scoreLikelihood(prediction({ distributions: [normal(0, 1), normal(0, 1)] }), stale);
    expect(result.success).toBe(false);
    expect(result.reason).toMatch(/^No step could be scored/);
  });

  it('an infinite pdf at the observed return', () => {
    // gamma with a < 1 is infinite at loc; put loc exactly on the observed log-return ln(99/110).
    const x = Math.log(99) - Math.log(110);
    const spiky = { type: 'builtin', name: 'gamma', params: { a: 0.5, loc: x, scale: 1 } };
    const result = scoreLikelihood(prediction({ distributions: [normal(0, 1), spiky] }), minutePrices);
    expect(result.reason).toMatch(/^The score is not finite \(Infinity\)/);
  });
});

describe('failure penalty and batches', () => {
  it('is min(0, lowest successful score)', () => {
    expect(likelihoodFailurePenalty([3, 1.5, 7])).toBe(0);
    expect(likelihoodFailurePenalty([3, -2, 7])).toBe(-2);
    expect(likelihoodFailurePenalty([])).toBe(0);
  });

  it('gives failed predictions of a batch the penalty with success=false and keeps successes', () => {
    const good = prediction({ distributions: [normal(0, 0.1), normal(0, 0.1)] });
    const results = scoreBatch(
      likelihoodScorer,
      [good, prediction({ status: 'FAILED' }), prediction({ asset: 'DOGE' })],
      (asset) => (asset === 'BTC' ? minutePrices : undefined),
    );
    expect(results[0]).toEqual({ success: true, score: scoreLikelihood(good, minutePrices).score, reason: null });
    expect(results[1]).toEqual({
      success: false,
      score: 0,
      reason: 'The prediction not succeed PredictionStatus.FAILED',
    });
    expect(results[2]).toEqual({ success: false, score: 0, reason: 'No prices are known for asset DOGE' });
  });
});

describe('likelihood properties', () => {
  // A random walk of one-minute prices and a random normal per step.
  const scenario = fc.record({
    returns: fc.array(fc.double({ min: -0.02, max: 0.02, noNaN: true }), { minLength: 30, maxLength: 80 }),
    steps: fc.integer({ min: 1, max: 6 }),
    stepMinutes: fc.constantFrom(1, 2, 5),
    offset: fc.double({ min: 0, max: 59, noNaN: true }),
    locs: fc.array(fc.double({ min: -0.01, max: 0.01, noNaN: true }), { minLength: 6, maxLength: 6 }),
    scale: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
  });
  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
  function build(s: Scenario, shift = 0) {
    let price = 100;
    const points: Array<[number, number]> = [[shift, price]];
    s.returns.forEach((r, i) => {
      price *= Math.exp(r);
      points.push([shift + (i + 1) * 60, price]);
    });
    const step = s.stepMinutes * 60;
    const horizon = s.steps * step;
    const resolvableAt = shift + Math.min(s.returns.length * 60, horizon + 600) + s.offset;
    const distributions = Array.from({ length: s.steps }, (_, k) => normal(s.locs[k]!, s.scale));
    return { points, predictionFor: prediction({ horizon, step, resolvableAt, distributions }) };
  }

  it('is unchanged when prices and time shift together, or when the points come in another order', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: -1_000_000, max: 1_000_000 }), (s, shiftMinutes) => {
        const base = build(s);
        const shifted = build(s, shiftMinutes * 60);
        const reversed = PriceSeries.fromPoints([...base.points].reverse());
        const score = scoreLikelihood(base.predictionFor, PriceSeries.fromPoints(base.points)).score;
        return (
          score === scoreLikelihood(shifted.predictionFor, PriceSeries.fromPoints(shifted.points)).score &&
          score === scoreLikelihood(base.predictionFor, reversed).score
        );
      }),
    );
  });

  it('is unchanged (to rounding) when every price is multiplied by the same factor', () => {
    fc.assert(
      fc.property(scenario, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (s, factor) => {
        const { points, predictionFor } = build(s);
        const scaled = points.map(([t, p]): [number, number] => [t, p * factor]);
        const a = scoreLikelihood(predictionFor, PriceSeries.fromPoints(points)).score!;
        const b = scoreLikelihood(predictionFor, PriceSeries.fromPoints(scaled)).score!;
        return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a));
      }),
    );
  });

  it('is linear in mixtures: score(w·A + (1-w)·B) = w·score(A) + (1-w)·score(B)', () => {
    fc.assert(
      fc.property(scenario, fc.double({ min: 0, max: 1, noNaN: true }), (s, w) => {
        const { points, predictionFor } = build(s);
        const prices = PriceSeries.fromPoints(points);
        const a = predictionFor.distributions as unknown[];
        const b = a.map(() => ({ type: 'builtin', name: 't', params: { df: 3, loc: 0, scale: s.scale } }));
        const mixed = a.map((density, k) => ({
          type: 'mixture',
          components: [
            { density, weight: w },
            { density: b[k], weight: 1 - w },
          ],
        }));
        const scoreA = scoreLikelihood({ ...predictionFor, distributions: a }, prices).score!;
        const scoreB = scoreLikelihood({ ...predictionFor, distributions: b }, prices).score!;
        const scoreMixed = scoreLikelihood({ ...predictionFor, distributions: mixed }, prices).score!;
        return Math.abs(scoreMixed - (w * scoreA + (1 - w) * scoreB)) <= 1e-9 * Math.max(1, scoreMixed);
      }),
    );
  });

  it('fails (never crashes) when the prices end before the prediction starts', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { points, predictionFor } = build(s);
        const late = { ...predictionFor, resolvableAt: points.at(-1)![0] + predictionFor.horizon + predictionFor.step };
        const result = scoreLikelihood(late, PriceSeries.fromPoints(points));
        return !result.success && result.reason.startsWith('No step could be scored');
      }),
    );
  });

  it('never ranks a failed prediction above a successful one in a batch', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { maxLength: 20 }), (scores) => {
        const penalty = likelihoodFailurePenalty(scores);
        return penalty <= 0 && scores.every((score) => penalty <= score);
      }),
    );
  });
});
