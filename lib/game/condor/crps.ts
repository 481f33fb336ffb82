// Condor's CRPS score (docs/game.md#crps, crunch-synth's form): for each step, the integrated squared
// distance between the density's discretised CDF and the step function at the observed price
// difference, over a grid of ±K·t_a; a prediction's score is the sum over its steps divided by t_a.
// Lower is better.
import type { PredictionScore, ScorablePrediction, Scorer } from '../definition.js';
import type { PriceSeries } from '../prices.js';
import type { Pdf } from './densities/index.js';
import { compilePrediction, statusFailureReason } from './prediction.js';
import { stepPairs } from './step-pairs.js';

/** t_a: the half-width of the integration grid per asset at the base step (docs/game.md#crps). */
export const CRPS_HALF_WIDTHS: Readonly<Record<string, number>> = {
  BTC: 1500,
  ETH: 80,
  SOL: 4,
  XAUT: 33,
  SP500: 21,
  NVDAX: 2.3,
  TSLAX: 5.9,
  AAPLX: 2.1,
  GOOGLX: 3.4,
  XRP: 0.04,
  HYPE: 1.1,
  WTIOIL: 1.2,
};

/** Per-asset weights of the overall score (crunch_synth 0.15.0 ASSET_WEIGHTS; BTC is the baseline). */
export const CRPS_ASSET_WEIGHTS: Readonly<Record<string, number>> = {
  BTC: 1.0,
  ETH: 0.7064366394033871,
  XAUT: 1.7370922597118699,
  SOL: 0.6310037175639559,
  SP500: 3.437935601155441,
  NVDAX: 1.6028217601617174,
  TSLAX: 1.6068755936957768,
  AAPLX: 2.0916380815843123,
  GOOGLX: 1.6827392777257926,
  XRP: 0.5658394110809131,
  HYPE: 0.4784547133706857,
  WTIOIL: 0.8475062847978935,
  SPCX: 0.4329342627683478,
};

/** Our price feeds call gold XAU; crunch-synth's tables call it XAUT. */
export const CRPS_ASSET_ALIASES: Readonly<Record<string, string>> = { XAU: 'XAUT' };

export interface CrpsOptions {
  /** Grid points (docs/game.md#crps and condorgame: 256; crunch_synth 0.15.0: 1024). */
  points: number;
  /** Steps up to this many seconds use K = 1; longer ones K = sqrt(step / baseStep). */
  baseStep: number;
  halfWidths: Readonly<Record<string, number>>;
  /** Divide the pdf by its trapezoid integral over the grid first (crunch_synth 0.15.0 does; docs/game.md#crps does not). */
  normalisePdf: boolean;
}

export const DEFAULT_CRPS_OPTIONS: CrpsOptions = {
  points: 256,
  baseStep: 300,
  halfWidths: CRPS_HALF_WIDTHS,
  normalisePdf: false,
};

/** K: how much wider than t_a the grid is for a step. */
export function crpsStepScale(step: number, baseStep = DEFAULT_CRPS_OPTIONS.baseStep): number {
  return step > baseStep ? Math.sqrt(step / baseStep) : 1;
}

/** numpy.linspace(-halfWidth, halfWidth, points), element for element. */
export function crpsGrid(halfWidth: number, points: number): Float64Array {
  const grid = new Float64Array(points);
  const start = -halfWidth;
  const spacing = (halfWidth - start) / (points - 1);
  for (let i = 0; i < points; i++) grid[i] = i * spacing + start;
  grid[points - 1] = halfWidth;
  return grid;
}

/**
 * CRPS of one density at the observed value x on a grid (crps_integral):
 * cdf = clip(cumsum(pdf(grid)) · dt, 0, 1), CRPS = trapezoid((cdf - [grid >= x])², grid).
 * `scratch` (grid-sized) avoids an allocation per call.
 */
export function crpsIntegral(
  pdf: Pdf,
  x: number,
  grid: Float64Array,
  normalisePdf = false,
  scratch = new Float64Array(grid.length),
): number {
  for (let i = 0; i < grid.length; i++) scratch[i] = pdf(grid[i]!);
  return crpsFromPdfValues(scratch, x, grid, normalisePdf);
}

/** The CRPS integral from the pdf's values on the grid (`values` is overwritten when normalising). */
export function crpsFromPdfValues(values: Float64Array, x: number, grid: Float64Array, normalisePdf = false): number {
  const n = grid.length;
  const dt = grid[1]! - grid[0]!;
  if (normalisePdf) {
    let integral = 0;
    for (let i = 0; i + 1 < n; i++) integral += ((grid[i + 1]! - grid[i]!) * (values[i]! + values[i + 1]!)) / 2;
    if (integral > 0) for (let i = 0; i < n; i++) values[i] = values[i]! / integral;
  }
  let cumulative = 0;
  let previous = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    cumulative += values[i]!;
    // np.clip keeps NaN as NaN; Math.min/max do too.
    const cdf = Math.min(1, Math.max(0, cumulative * dt));
    const difference = cdf - (grid[i]! >= x ? 1 : 0);
    const squared = difference * difference;
    if (i > 0) total += ((grid[i]! - grid[i - 1]!) * (previous + squared)) / 2;
    previous = squared;
  }
  return total;
}

/** The half-width t_a for an asset (aliases resolved), or undefined when the game has none for it. */
export function crpsHalfWidth(asset: string, halfWidths = DEFAULT_CRPS_OPTIONS.halfWidths): number | undefined {
  return lookupAsset(halfWidths, asset);
}

/** table[asset], else table[alias of asset]; own keys only, so "constructor" is not an asset. */
function lookupAsset(table: Readonly<Record<string, number>>, asset: string): number | undefined {
  if (Object.hasOwn(table, asset)) return table[asset];
  const alias = Object.hasOwn(CRPS_ASSET_ALIASES, asset) ? CRPS_ASSET_ALIASES[asset] : undefined;
  return alias !== undefined && Object.hasOwn(table, alias) ? table[alias] : undefined;
}

export function scoreCrps(
  prediction: ScorablePrediction,
  prices: PriceSeries,
  options: CrpsOptions = DEFAULT_CRPS_OPTIONS,
): PredictionScore {
  if (prediction.status !== 'SUCCESS') return failed(statusFailureReason(prediction.status));
  const halfWidth = crpsHalfWidth(prediction.asset, options.halfWidths);
  if (halfWidth === undefined) {
    return failed(
      `No CRPS range is defined for asset ${prediction.asset} (known: ${Object.keys(options.halfWidths).join(', ')})`,
    );
  }
  const compiled = compilePrediction(
    prediction.distributions,
    prediction.horizon,
    prediction.step,
    {},
    { transient: true },
  );
  if (!compiled.ok) return failed(compiled.reason);
  const { densities } = compiled;
  const grid = crpsGrid(crpsStepScale(prediction.step, options.baseStep) * halfWidth, options.points);
  const scratch = new Float64Array(grid.length);
  const pairs = stepPairs(prices, prediction.resolvableAt, prediction.step, densities.length, true);
  let sum = 0;
  let recorded = 0;
  for (let k = 0; k < densities.length; k++) {
    const current = pairs[2 * k]!;
    if (current < 0) continue;
    // The target is the price difference over the step, not the log-return.
    const delta = prices.prices[current]! - prices.prices[pairs[2 * k + 1]!]!;
    densities.fill(k, grid, scratch);
    sum += crpsFromPdfValues(scratch, delta, grid, options.normalisePdf);
    recorded++;
  }
  // Upstream sums an empty list to 0, a perfect score; a prediction with nothing to score fails here.
  if (recorded === 0) return failed('No step could be scored: the prices did not move to a new point within any step');
  const score = sum / halfWidth;
  if (!Number.isFinite(score)) return failed(`The score is not finite (${score}): a density is undefined on the grid`);
  return { success: true, score, reason: null };
}

/** Failed predictions of a batch get the batch's worst (highest) CRPS; null when none succeeded. */
export function crpsFailurePenalty(successfulScores: readonly number[]): number | null {
  if (successfulScores.length === 0) return null;
  let worst = Number.NEGATIVE_INFINITY;
  for (const score of successfulScores) if (score > worst) worst = score;
  return worst;
}

/**
 * Overall CRPS: the weighted mean of per-asset mean scores. null when there are no scores, or when
 * an asset with scores has no weight (crunch_synth's rule).
 */
export function crpsOverallScore(
  scoresByAsset: Readonly<Record<string, readonly number[]>>,
  weights: Readonly<Record<string, number>> = CRPS_ASSET_WEIGHTS,
): number | null {
  let weightedSum = 0;
  let totalWeight = 0;
  for (const [asset, scores] of Object.entries(scoresByAsset)) {
    if (scores.length === 0) continue;
    const weight = lookupAsset(weights, asset);
    if (weight === undefined) return null;
    let sum = 0;
    for (const score of scores) sum += score;
    weightedSum += weight * (sum / scores.length);
    totalWeight += weight;
  }
  return totalWeight === 0 ? null : weightedSum / totalWeight;
}

/**
 * Synth's per-round normalisation: a missing or invalid CRPS counts as the round's worst; then the
 * best CRPS maps to 1, the 95th percentile and above to 0, linearly between. Empty input -> [].
 */
export function normaliseRoundCrps(values: ReadonlyArray<number | null>): number[] {
  const valid = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (valid.length === 0) return values.map(() => 0);
  const worst = Math.max(...valid);
  const filled = values.map((v) => (v !== null && Number.isFinite(v) ? v : worst));
  const best = Math.min(...filled);
  const cutoff = percentile(filled, 95);
  return filled.map((v) => {
    if (cutoff <= best) return v <= best ? 1 : 0;
    return Math.min(1, Math.max(0, (cutoff - v) / (cutoff - best)));
  });
}

/** numpy.percentile's default (linear interpolation between closest ranks). */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * q) / 100;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  return sorted[below]! + (sorted[above]! - sorted[below]!) * fraction;
}

function failed(reason: string): PredictionScore {
  return { success: false, score: null, reason };
}

export function createCrpsScorer(options: Partial<CrpsOptions> = {}): Scorer {
  const resolved = { ...DEFAULT_CRPS_OPTIONS, ...options };
  return {
    name: 'crps',
    direction: 'lower-is-better',
    score: (prediction, prices) => scoreCrps(prediction, prices, resolved),
    failurePenalty: crpsFailurePenalty,
  };
}

export const crpsScorer: Scorer = createCrpsScorer();
