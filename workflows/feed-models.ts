import type { FeedSummary } from '../lib/cycle/index.js';
import { badInput, gameOf, instantOf, positiveInteger } from './inputs.js';
import { modelCallsWithin } from './queues.js';

export interface FeedModelsInput {
  /** Send the stored prices up to this instant (ISO): the price ingestion's. */
  untilAt: string;
  assets: string[];
  /** Game id (lib/game), default the default game; it must be the model-calls workers' game. */
  game?: string;
  /** Fan-out activities (spread over model-calls workers), as for the slots. */
  shards?: number;
}

export type FeedModelsResult = Omit<FeedSummary, 'failed'>;

/** A first tick carries 30 days of history to every new model: its activity gets minutes, not seconds. */
const FEED_BOUND_MS = 3 * 60_000;

/**
 * Brings every model's price store up to the newly stored prices (the whole history to a model new to
 * it). Started by each price ingestion and never waited for: a model slow to take its tick holds this
 * run only, never the prices and never a prediction slot.
 */
export async function feedModels(input: FeedModelsInput): Promise<FeedModelsResult> {
  const untilSec = instantOf(input?.untilAt, 'untilAt');
  if (!Array.isArray(input.assets)) throw badInput('feedModels needs the list of assets');
  const shards = positiveInteger(input.shards, 1, 'shards');
  const game = gameOf(input);
  const models = modelCallsWithin(FEED_BOUND_MS);
  const ticks = await Promise.all(
    Array.from({ length: shards }, (_, index) =>
      models.tickModels({ game, assets: input.assets, untilSec, shard: { index, count: shards } }),
    ),
  );
  return {
    ticked: ticks.reduce((sum, tick) => sum + tick.ticked, 0),
    fullHistory: ticks.reduce((sum, tick) => sum + tick.fullHistory, 0),
    upToDate: ticks.reduce((sum, tick) => sum + tick.upToDate, 0),
    failedCount: ticks.reduce((sum, tick) => sum + tick.failedCount, 0),
  };
}
