// Condor's likelihood score (GAME.md §3, condorgame-backend): the mean of each density's pdf at the
// log-return that happened over its step. Higher is better.
import type { PredictionScore, ScorablePrediction, Scorer } from '../definition.js';
import type { PriceSeries } from '../prices.js';
import { compilePrediction, statusFailureReason } from './prediction.js';
import { stepPairs } from './step-pairs.js';

export function scoreLikelihood(prediction: ScorablePrediction, prices: PriceSeries): PredictionScore {
  if (prediction.status !== 'SUCCESS') return failed(statusFailureReason(prediction.status));
  const compiled = compilePrediction(prediction.distributions, prediction.horizon, prediction.step);
  if (!compiled.ok) return failed(compiled.reason);
  const { pdfs } = compiled;
  const pairs = stepPairs(prices, prediction.resolvableAt, prediction.step, pdfs.length);
  const logs = prices.logPrices();
  let sum = 0;
  let recorded = 0;
  // Same order as upstream (last density first), so the floating-point sum matches too.
  for (let k = pdfs.length - 1; k >= 0; k--) {
    const current = pairs[2 * k]!;
    if (current < 0) continue;
    sum += pdfs[k]!(logs[current]! - logs[pairs[2 * k + 1]!]!);
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
