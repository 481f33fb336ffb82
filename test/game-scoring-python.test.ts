// Our scorers against Python: a reference written from docs/game.md#likelihood and docs/game.md#crps on densitypdf
// (lib/game/condor/python/reference_scoring.py), and condorgame's / crunch_synth's own crps_integral.
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDensity, crpsGrid, crpsIntegral, scoreCrps, scoreLikelihood } from '../lib/game/condor/index.js';
import { runReference } from '../lib/game/condor/python/reference.js';
import type { ScorablePrediction } from '../lib/game/definition.js';
import { PriceSeries, type TickData } from '../lib/game/prices.js';
import { mulberry32 as randomSource } from './support/mulberry32.js';
import { toolsPython } from './support/tools.js';

interface PythonScore {
  success: boolean;
  score: number | null;
  reason: string | null;
}

const random = randomSource(42);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const START = 1_750_000_000;
const DAYS = 3;

/** Three days of minute closes with dropped minutes and one 40-minute outage (exercises the skip rule). */
function history(startPrice: number, volatility: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  let price = startPrice;
  for (let minute = 0; minute <= DAYS * 1440; minute++) {
    price *= Math.exp(volatility * gaussian());
    const inOutage = minute >= 2000 && minute < 2040;
    if (!inOutage && random() > 0.05) points.push([START + minute * 60, price]);
  }
  return points;
}

const prices: TickData = { BTC: history(65_000, 0.0008), ETH: history(3_400, 0.0012) };
const series = new Map(Object.entries(prices).map(([asset, points]) => [asset, PriceSeries.fromPoints(points, asset)]));

const normal = (loc: number, scale: number) => ({ type: 'builtin', name: 'norm', params: { loc, scale } });

const KINDS = ['benchmark', 'norm', 't', 'laplace', 'mixture', 'wrapper', 'scipy'] as const;
// scipy.stats builds a distribution object per evaluation (~0.3 ms): too slow for 256 CRPS grid points.
const FAST_KINDS = KINDS.filter((kind) => kind !== 'scipy');

/** A random density of the log-return (likelihood) or of the price change (CRPS: `unit` is the asset's scale). */
function randomDensity(unit: number, kinds: readonly (typeof KINDS)[number][] = KINDS): unknown {
  const scale = unit * (0.3 + 2 * random());
  const loc = unit * 0.3 * gaussian();
  const kind = pick(kinds);
  switch (kind) {
    case 'benchmark':
      return { type: 'mixture', components: [{ density: normal(loc, scale), weight: 1 }] };
    case 'norm':
      return normal(loc, scale);
    case 't':
      return { type: 'builtin', name: 't', params: { df: 2 + 10 * random(), loc, scale } };
    case 'laplace':
      return { type: 'builtin', name: 'laplace', params: { loc, scale } };
    case 'mixture':
      return {
        type: 'mixture',
        components: [
          { density: normal(loc, scale), weight: 0.8 },
          { density: { type: 'builtin', name: 't', params: { df: 3, loc: 0, scale: 3 * scale } }, weight: 0.2 },
        ],
      };
    case 'wrapper':
      return { step: 60, prediction: normal(loc, scale) };
    case 'scipy':
      return { type: 'scipy', name: 'cauchy', params: { loc, scale } };
  }
}

const GROUPS = [
  { horizon: 3600, step: 60 },
  { horizon: 3600, step: 300 },
  { horizon: 86_400, step: 300 },
  { horizon: 86_400, step: 3600 },
] as const;

/** Predictions over the history, a few of them broken on purpose. */
function predictions(
  count: number,
  unitFor: (asset: string, step: number) => number,
  groups: readonly (typeof GROUPS)[number][],
  kinds: readonly (typeof KINDS)[number][] = KINDS,
) {
  return Array.from({ length: count }, (_, i) => {
    const asset = pick(['BTC', 'ETH']);
    const { horizon, step } = pick(groups);
    // Fractional seconds, and some predictions resolving in the outage or at the very end.
    const performedAt = START + random() * (DAYS * 86_400 - horizon);
    const steps = horizon / step;
    let distributions: unknown = Array.from({ length: steps }, () => randomDensity(unitFor(asset, step), kinds));
    let status = 'SUCCESS';
    if (i % 17 === 5) status = 'TIMEOUT';
    if (i % 19 === 7) distributions = (distributions as unknown[]).slice(1);
    return {
      asset,
      horizon,
      step,
      status,
      distributions,
      performed_at: performedAt,
      resolvable_at: performedAt + horizon,
    };
  });
}

const toScorable = (p: ReturnType<typeof predictions>[number]): ScorablePrediction => ({
  asset: p.asset,
  horizon: p.horizon,
  step: p.step,
  status: p.status,
  distributions: p.distributions,
  resolvableAt: p.resolvable_at,
});

function expectSameScores(
  ours: Array<{ success: boolean; score: number | null }>,
  theirs: PythonScore[],
  tolerance: number,
) {
  expect(ours.map((s) => s.success)).toEqual(theirs.map((s) => s.success));
  const off = ours.flatMap((s, i) => {
    const reference = theirs[i]!.score;
    if (s.score === null || reference === null) return s.score === reference ? [] : [i];
    return Math.abs(s.score - reference) <= tolerance * Math.max(Math.abs(reference), 1e-300) ? [] : [i];
  });
  expect(off).toEqual([]);
}

describe('likelihood agrees with a Python scorer of docs/game.md#likelihood on densitypdf', () => {
  const likelihoodPredictions = predictions(120, (_asset, step) => 0.001 * Math.sqrt(step / 60), GROUPS);
  let theirs: PythonScore[];

  beforeAll(async () => {
    theirs = await runReference<PythonScore[]>(toolsPython(), {
      mode: 'likelihood',
      prices,
      predictions: likelihoodPredictions,
    });
  });

  it('on 120 predictions over a generated 3-day history with gaps (success flags equal, scores to 1e-9)', () => {
    const ours = likelihoodPredictions.map((p) => scoreLikelihood(toScorable(p), series.get(p.asset)!));
    expectSameScores(ours, theirs, 1e-9);
    // The comparison means something only if most predictions succeed and some fail.
    const successes = ours.filter((s) => s.success).length;
    expect(successes).toBeGreaterThan(90);
    expect(successes).toBeLessThan(120);
  });
});

describe('CRPS agrees with Python', () => {
  const crpsOptions = { half_widths: { BTC: 1500, ETH: 80 }, points: 256, base_step: 300, normalise: false };
  // Price-change densities: a minute's move is about price · volatility.
  const unit = (asset: string, step: number) => (asset === 'BTC' ? 52 : 4) * Math.sqrt(step / 60);
  const crpsPredictions = predictions(24, unit, [GROUPS[0], GROUPS[1], GROUPS[3]], FAST_KINDS);
  let theirs: PythonScore[];

  beforeAll(async () => {
    theirs = await runReference<PythonScore[]>(toolsPython(), {
      mode: 'crps',
      prices,
      predictions: crpsPredictions,
      ...crpsOptions,
    });
  });

  it('per prediction, against a Python scorer of docs/game.md#crps (numpy, densitypdf), to 1e-9', () => {
    const ours = crpsPredictions.map((p) => scoreCrps(toScorable(p), series.get(p.asset)!));
    expectSameScores(ours, theirs, 1e-9);
    expect(ours.filter((s) => s.success).length).toBeGreaterThan(15);
  });

  it("per integral, against condorgame's crps_integral (256 points) and crunch_synth 0.15's (1024, normalised pdf)", async () => {
    const cases = Array.from({ length: 30 }, () => {
      const halfWidth = pick([1500, 80, 4]);
      const spec = randomDensity(halfWidth / 10, FAST_KINDS);
      // condorgame and crunch_synth call densitypdf directly, which rejects the wrapper form.
      const unwrapped = (spec as { prediction?: unknown }).prediction ?? spec;
      return { spec: unwrapped, x: (halfWidth / 4) * gaussian(), half_width: halfWidth };
    });
    const upstream = await runReference<Array<{ condorgame: number; crunch_synth: number }>>(toolsPython(), {
      mode: 'upstream_crps',
      cases,
    });
    cases.forEach((c, i) => {
      const compiled = compileDensity(c.spec);
      if (!compiled.ok) throw new Error(compiled.reason);
      const ours256 = crpsIntegral(compiled.pdf, c.x, crpsGrid(c.half_width, 256));
      const ours1024 = crpsIntegral(compiled.pdf, c.x, crpsGrid(c.half_width, 1024), true);
      expect(Math.abs(ours256 - upstream[i]!.condorgame)).toBeLessThanOrEqual(1e-9 * upstream[i]!.condorgame);
      expect(Math.abs(ours1024 - upstream[i]!.crunch_synth)).toBeLessThanOrEqual(1e-9 * upstream[i]!.crunch_synth);
    });
  });
});
