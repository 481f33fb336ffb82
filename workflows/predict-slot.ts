import { ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ModelActivities } from '../activities/index.js';
import type { StatusCounts } from '../lib/cycle/index.js';
import { type DuePrediction, slotRoundBoundMs } from '../lib/schedule/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { taskQueues } from '../lib/temporal/task-queues.js';

export interface PredictSlotInput {
  /** The slot's instant (ISO, milliseconds kept: slots such as condor-quick's fall on half seconds). */
  slotAt: string;
  /** The predictions due at that instant (lib/schedule `slotsBetween`). */
  due: DuePrediction[];
  /** Every active asset. */
  assets: string[];
  /** Predict fan-out activities (spread over model-calls workers). */
  shards?: number;
  /** Deadline of one model call. */
  timeoutMs?: number;
}

export interface PredictSlotResult {
  slotAt: string;
  due: number;
  modelsCalled: number;
  predictionsStored: number;
  byStatus: StatusCounts;
}

/**
 * One prediction slot: ask every fed model for the predictions due at the slot's instant and store every
 * answer. The models' price stores are kept current apart from the slots, after each price ingestion
 * (feedModels), so a model slow to take a tick never stands between a slot and the other models' calls. The slot's instant is in the run's id (`predict-slot-<ISO>`),
 * so Temporal never starts a slot twice, and rows are keyed by it, so a retried shard stores nothing twice.
 * Each slot is its own run: a slow model holds its own answer only, never the next slot.
 */
export async function predictSlot(input: PredictSlotInput): Promise<PredictSlotResult> {
  const slotMs = typeof input?.slotAt === 'string' ? new Date(input.slotAt).getTime() : Number.NaN;
  if (Number.isNaN(slotMs) || !Array.isArray(input.due) || !Array.isArray(input.assets)) {
    throw ApplicationFailure.nonRetryable(
      `predictSlot needs { slotAt: ISO instant, due: [...], assets: [...] }, got slotAt "${String(input?.slotAt)}"`,
      'BadInput',
    );
  }
  const untilSec = slotMs / 1000;
  const shards = Math.max(1, Math.floor(input.shards ?? 1));
  const timeoutMs = input.timeoutMs ?? 60_000;
  upsertSearchAttributes([
    { key: searchAttributes.cycleTime, value: new Date(slotMs) },
    { key: searchAttributes.assets, value: [...new Set(input.due.map((d) => d.asset))] },
  ]);

  const models = proxyActivities<ModelActivities>({
    taskQueue: taskQueues.modelCalls,
    startToCloseTimeout: slotRoundBoundMs(timeoutMs),
    heartbeatTimeout: '20 seconds',
    // A worker lost in the middle of a round is retried once or twice; later, the slot has passed.
    retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['BadInput'] },
  });
  const rounds = await Promise.all(
    Array.from({ length: shards }, (_, index) =>
      models.predictShard({
        assets: input.assets,
        untilSec,
        shard: { index, count: shards },
        due: input.due,
        timeoutMs,
        // The models are fed after each price ingestion (feedModels): nothing stands before the calls.
        feed: false,
      }),
    ),
  );

  const byStatus: StatusCounts = { SUCCESS: 0, FAILED: 0, TIMEOUT: 0, ABSENT: 0 };
  for (const round of rounds)
    for (const status of Object.keys(byStatus) as Array<keyof StatusCounts>) byStatus[status] += round.byStatus[status];
  const result: PredictSlotResult = {
    slotAt: new Date(slotMs).toISOString(),
    due: input.due.length,
    modelsCalled: rounds.reduce((sum, round) => sum + round.modelsCalled, 0),
    predictionsStored: rounds.reduce((sum, round) => sum + round.stored, 0),
    byStatus,
  };
  upsertSearchAttributes([
    { key: searchAttributes.modelsCalled, value: result.modelsCalled },
    { key: searchAttributes.predictionFailures, value: byStatus.FAILED + byStatus.TIMEOUT + byStatus.ABSENT },
  ]);
  return result;
}
