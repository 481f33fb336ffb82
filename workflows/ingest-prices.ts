import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import type { MarketDataActivities, StorageActivities } from '../activities/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { taskQueues } from '../lib/temporal/task-queues.js';
import type { feedModels } from './feed-models.js';
import { scheduledInstant } from './scheduled-instant.js';

export interface IngestPricesInput {
  /** Fetch prices up to this instant (ISO). Default: the schedule's scheduled time, else the start time. */
  scheduledAt?: string;
  /** Fan-out of the models' feed that follows (as for the slots). */
  shards?: number;
}

export interface IngestPricesResult {
  scheduledAt: string;
  /** New points stored, all assets together. */
  pricesStored: number;
  /** Newest stored point per asset after the run (unix seconds), null when the asset has none. */
  latest: Record<string, number | null>;
}

const storage = proxyActivities<StorageActivities>({
  taskQueue: taskQueues.postgres,
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, maximumInterval: '10 seconds' },
});
const marketData = proxyActivities<MarketDataActivities>({
  taskQueue: taskQueues.postgres,
  // The first run of a new asset fetches 30 days of history.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5, maximumInterval: '30 seconds' },
});

/**
 * Price ingestion on its own cadence, apart from the model calls: whatever the models do, the price
 * store (and so scoring and the leaderboard) keeps its pace. Stores what is new since the newest stored
 * price of each active asset, up to the scheduled instant; the writes are idempotent, so a retried,
 * repeated or overlapping run stores nothing twice. Then it starts the models' feed of those prices,
 * `feed-models-<instant>`, and does not wait for it.
 */
export async function ingestPrices(input: IngestPricesInput = {}): Promise<IngestPricesResult> {
  const untilSec = scheduledInstant(input.scheduledAt);
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(untilSec * 1000) }]);
  const groups = await storage.loadPredictionGroups();
  const assets = [...new Set(groups.flatMap((group) => group.assets))];
  const prices = await marketData.syncPrices({ assets, untilSec });
  const untilAt = new Date(untilSec * 1000).toISOString();
  try {
    await startChild<typeof feedModels>('feedModels', {
      workflowId: `feed-models-${untilAt}`,
      args: [{ untilAt, assets, shards: Math.max(1, Math.floor(input.shards ?? 1)) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowRunTimeout: '15 minutes',
    });
  } catch (error) {
    // A retried or repeated ingestion of the same instant: its feed runs already.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return {
    scheduledAt: new Date(untilSec * 1000).toISOString(),
    pricesStored: Object.values(prices.stored).reduce((sum, count) => sum + count, 0),
    latest: prices.latest,
  };
}
