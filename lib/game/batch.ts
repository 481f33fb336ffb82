// Scoring a batch: each prediction on its own, then failed ones get the scorer's failure penalty,
// which depends on the batch's successful scores (docs/game.md#likelihood step 5).
import type { BatchScore, PredictionScore, ScorablePrediction, Scorer } from './definition.js';
import type { PriceSeries } from './prices.js';

/** The failure reason of a prediction whose prices never settled within the game's limit. */
export const NO_SETTLED_PRICE = 'no settled price';

/**
 * Scores each prediction on its own, in order (the CPU-bound part, which can run on another thread in
 * pieces); `pricesFor` returns the series of an asset (undefined when there is none).
 */
export function scoreEach(
  scorer: Scorer,
  predictions: readonly ScorablePrediction[],
  pricesFor: (asset: string) => PriceSeries | undefined,
): PredictionScore[] {
  return predictions.map((prediction) => {
    // Past the settlement limit with a step still unpriced: failed, never scored on a stale price.
    if (prediction.settled === false && prediction.status === 'SUCCESS') {
      return { success: false, score: null, reason: NO_SETTLED_PRICE } as const;
    }
    const prices = pricesFor(prediction.asset);
    if (prices === undefined || prices.length === 0) {
      return { success: false, score: null, reason: `No prices are known for asset ${prediction.asset}` } as const;
    }
    return scorer.score(prediction, prices);
  });
}

/** The batch's scores: failed predictions get the penalty computed from the batch's successful scores. */
export function withFailurePenalty(scorer: Scorer, results: readonly PredictionScore[]): BatchScore[] {
  const successful: number[] = [];
  for (const result of results) if (result.success) successful.push(result.score);
  const penalty = scorer.failurePenalty(successful);
  return results.map((result) =>
    result.success
      ? { success: true, score: result.score, reason: null }
      : { success: false, score: penalty, reason: result.reason },
  );
}

/** Scores predictions in order and applies the batch's failure penalty. */
export function scoreBatch(
  scorer: Scorer,
  predictions: readonly ScorablePrediction[],
  pricesFor: (asset: string) => PriceSeries | undefined,
): BatchScore[] {
  return withFailurePenalty(scorer, scoreEach(scorer, predictions, pricesFor));
}
