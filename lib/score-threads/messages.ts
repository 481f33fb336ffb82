import type { PredictionScore, ScorablePrediction } from '../game/index.js';

/** One asset's prices as a PriceSeries holds them: sorted times and their prices (cloned cheaply). */
export interface SeriesArrays {
  times: Float64Array;
  prices: Float64Array;
}

/** What the pool asks a thread: score these predictions with this game's scorer. */
export interface ScoreRequest {
  id: number;
  game: string;
  scorer?: string;
  predictions: ScorablePrediction[];
  /** The prices of every asset the predictions name. */
  series: Record<string, SeriesArrays>;
}

export type ScoreReply = { id: number; results: PredictionScore[] } | { id: number; error: string };
