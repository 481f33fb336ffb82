import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import type { feedModels } from './feed-models.js';
import { gameOf, positiveInteger, runInstant } from './inputs.js';
import { postgres } from './queues.js';

export interface IngestPricesInput {
  /** Fetch prices up to this instant (ISO). Default: the schedule's scheduled time, else the start time. */
  scheduledAt?: string;
  /** Game id (lib/game) of the models' feed that follows; default the default game. */
  game?: string;
  /** Fan-out of the models' feed that follows (as for the slots). */
  shards?: number;
}

export interface IngestPricesResult {
  scheduledAt: string;
  /** New points stored, all assets together. */
  pricesStored: number;
  /** Newest stored point per asset after the run (unix seconds), null when the asset has none. */
  latest: Record<string, number | null>;
  /** Points held back or rejected by the plausibility check, and corrections seen, all assets together. */
  held: number;
  corrections: number;
}

/** The sum of per-asset counts; absent in activity results recorded before the count existed (replay). */
const total = (counts: Record<string, number> | undefined) =>
  Object.values(counts ?? {}).reduce((sum, count) => sum + count, 0);

/**
 * Price ingestion on its own cadence, apart from the model calls: whatever the models do, the price
 * store (and so scoring and the leaderboard) keeps its pace. Stores the minutes closed by the scheduled
 * instant that each active asset lacks, re-reading the repair window (gaps, corrections) and checking
 * plausibility (README "Price pipeline"); the writes are idempotent, so a retried, repeated or
 * overlapping run stores nothing twice. Then it starts the models' feed of those prices,
 * `feed-models-<instant>`, and does not wait for it.
 */
export async function ingestPrices(input: IngestPricesInput = {}): Promise<IngestPricesResult> {
  const untilSec = runInstant(input.scheduledAt, 'scheduledAt');
  const shards = positiveInteger(input.shards, 1, 'shards');
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(untilSec * 1000) }]);
  const groups = await postgres.loadPredictionGroups();
  const assets = [...new Set(groups.flatMap((group) => group.assets))];
  const prices = await postgres.syncPrices({ assets, untilSec });
  const untilAt = new Date(untilSec * 1000).toISOString();
  try {
    await startChild<typeof feedModels>('feedModels', {
      workflowId: `feed-models-${untilAt}`,
      args: [{ untilAt, assets, game: gameOf(input), shards }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowRunTimeout: '15 minutes',
    });
  } catch (error) {
    // A retried or repeated ingestion of the same instant: its feed runs already.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return {
    scheduledAt: untilAt,
    pricesStored: Object.values(prices.stored).reduce((sum, count) => sum + count, 0),
    latest: prices.latest,
    held: total(prices.held),
    corrections: total(prices.corrections),
  };
}
