import { upsertSearchAttributes } from '@temporalio/workflow';
import type { StatusCounts } from '../lib/cycle/index.js';
import type { DuePrediction } from '../lib/schedule/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { badInput, gameOf, positiveInteger } from './inputs.js';
import { modelCallsWithin } from './queues.js';

export interface PredictSlotInput {
  /** The slot's instant (ISO, milliseconds kept: slots such as condor-quick's fall on half seconds). */
  slotAt: string;
  /** The predictions due at that instant (lib/schedule `slotsBetween`). */
  due: DuePrediction[];
  /** Every active asset. */
  assets: string[];
  /** Game id (lib/game), default the default game; it must be the model-calls workers' game. */
  game?: string;
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
    throw badInput(
      `predictSlot needs { slotAt: ISO instant, due: [...], assets: [...] }, got slotAt "${String(input?.slotAt)}"`,
    );
  }
  const untilSec = slotMs / 1000;
  const game = gameOf(input);
  const shards = positiveInteger(input.shards, 1, 'shards');
  const timeoutMs = input.timeoutMs ?? 60_000;
  upsertSearchAttributes([
    { key: searchAttributes.cycleTime, value: new Date(slotMs) },
    { key: searchAttributes.assets, value: [...new Set(input.due.map((d) => d.asset))] },
  ]);

  // A worker lost in the middle of a round is retried (the queue's policy) within the run's own timeout.
  const models = modelCallsWithin(timeoutMs);
  const rounds = await Promise.all(
    Array.from({ length: shards }, (_, index) =>
      models.predictShard({
        game,
        assets: input.assets,
        untilSec,
        shard: { index, count: shards },
        due: input.due,
        timeoutMs,
        // The models are fed after each price ingestion (feedModels): nothing stands before the calls.
        feed: false,
        // Started a little ahead of its instant (predictSlots), the activity waits for it to call.
        notBeforeMs: slotMs,
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
