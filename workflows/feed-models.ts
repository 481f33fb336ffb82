import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ModelActivities } from '../activities/index.js';
import type { FeedSummary } from '../lib/cycle/index.js';
import { taskQueues } from '../lib/temporal/task-queues.js';

export interface FeedModelsInput {
  /** Send the stored prices up to this instant (ISO): the price ingestion's. */
  untilAt: string;
  assets: string[];
  /** Fan-out activities (spread over model-calls workers), as for the slots. */
  shards?: number;
}

export type FeedModelsResult = Omit<FeedSummary, 'failed'>;

const models = proxyActivities<ModelActivities>({
  taskQueue: taskQueues.modelCalls,
  // A first tick carries 30 days of history to every new model; heartbeats tell a dead worker.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['BadInput'] },
});

/**
 * Brings every model's price store up to the newly stored prices (the whole history to a model new to
 * it). Started by each price ingestion and never waited for: a model slow to take its tick holds this
 * run only, never the prices and never a prediction slot.
 */
export async function feedModels(input: FeedModelsInput): Promise<FeedModelsResult> {
  const untilMs = typeof input?.untilAt === 'string' ? new Date(input.untilAt).getTime() : Number.NaN;
  if (Number.isNaN(untilMs) || !Array.isArray(input.assets)) {
    throw ApplicationFailure.nonRetryable(
      `feedModels needs { untilAt: ISO instant, assets: [...] }, got untilAt "${String(input?.untilAt)}"`,
      'BadInput',
    );
  }
  const shards = Math.max(1, Math.floor(input.shards ?? 1));
  const ticks = await Promise.all(
    Array.from({ length: shards }, (_, index) =>
      models.tickModels({ assets: input.assets, untilSec: untilMs / 1000, shard: { index, count: shards } }),
    ),
  );
  return {
    ticked: ticks.reduce((sum, tick) => sum + tick.ticked, 0),
    fullHistory: ticks.reduce((sum, tick) => sum + tick.fullHistory, 0),
    upToDate: ticks.reduce((sum, tick) => sum + tick.upToDate, 0),
    failedCount: ticks.reduce((sum, tick) => sum + tick.failedCount, 0),
  };
}
