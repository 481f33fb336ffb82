// Condor's likelihood score (docs/game.md#likelihood, condorgame-backend): the mean of each density's pdf at the
// log-return that happened over its step. Higher is better.
import type { PredictionScore, ScorablePrediction, Scorer } from '../definition.js';
import type { PriceSeries } from '../prices.js';
import { SpecReader } from './densities/index.js';
import { compilePrediction, listShapeProblem, statusFailureReason } from './prediction.js';
import { stepPairs } from './step-pairs.js';

// Each density is evaluated once, so it is read and evaluated in one pass (no compiled list): with
// 288 densities per prediction that is most of the scoring time.
const reader = new SpecReader();

export function scoreLikelihood(prediction: ScorablePrediction, prices: PriceSeries): PredictionScore {
  if (prediction.status !== 'SUCCESS') return failed(statusFailureReason(prediction.status));
  const { distributions, horizon, step } = prediction;
  const shapeProblem = listShapeProblem(distributions, horizon, step);
  if (shapeProblem !== undefined) return failed(shapeProblem);
  const densities = distributions as unknown[];
  const pairs = stepPairs(prices, prediction.resolvableAt, step, densities.length, true);
  const logs = prices.logPrices();
  let sum = 0;
  let recorded = 0;
  // Same order as upstream (last density first), so the floating-point sum matches too.
  for (let k = densities.length - 1; k >= 0; k--) {
    const current = pairs[2 * k]!;
    if (current < 0) {
      // A skipped step's density is not scored but must still be valid.
      if (reader.check(densities[k]) !== undefined) return failed(firstInvalidDensity(densities, horizon, step));
      continue;
    }
    const value = reader.evaluate(densities[k], logs[current]! - logs[pairs[2 * k + 1]!]!);
    if (reader.problem !== undefined) return failed(firstInvalidDensity(densities, horizon, step));
    sum += value;
    recorded++;
  }
  if (recorded === 0) {
    return failed('No step could be scored: the prices did not move to a new point within any step');
  }
  const score = sum / recorded;
  if (!Number.isFinite(score)) {
    return failed(`The score is not finite (${score}): a density is infinite or undefined at an observed return`);
  }
  return { success: true, score, reason: null };
}

/** The same reason predict-time validation gives: the first invalid density, counting from 0. */
function firstInvalidDensity(densities: unknown[], horizon: number, step: number): string {
  const compiled = compilePrediction(densities, horizon, step);
  return compiled.ok ? 'a density is invalid' : compiled.reason;
}

/** Failed predictions of a batch get min(0, lowest successful score): never better than 0, never better than any success. */
export function likelihoodFailurePenalty(successfulScores: readonly number[]): number {
  let lowest = 0;
  for (const score of successfulScores) if (score < lowest) lowest = score;
  return lowest;
}

function failed(reason: string): PredictionScore {
  return { success: false, score: null, reason };
}

export const likelihoodScorer: Scorer = {
  name: 'likelihood',
  direction: 'higher-is-better',
  score: scoreLikelihood,
  failurePenalty: likelihoodFailurePenalty,
};
