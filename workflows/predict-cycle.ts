import { upsertSearchAttributes } from '@temporalio/workflow';
import type { StatusCounts } from '../lib/cycle/index.js';
import { duePredictions } from '../lib/schedule/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { gameOf, runInstant } from './inputs.js';
import { modelCallsWithin, postgres } from './queues.js';

export interface PredictCycleInput {
  /** The instant this cycle stands for (ISO). Default: the schedule's scheduled time, else the start time. */
  scheduledAt?: string;
  /** Game id (lib/game), default the default game; it must be the model-calls workers' game. */
  game?: string;
  /** Seconds between cycles: the cycle asks for the slots in (scheduledAt - period, scheduledAt]. */
  periodSec?: number;
  /** Predict fan-out activities (spread over model-calls workers). */
  shards?: number;
  /** Deadline of one model call. */
  timeoutMs?: number;
}

export interface PredictCycleResult {
  scheduledAt: string;
  due: number;
  modelsTicked: number;
  modelsCalled: number;
  predictionsStored: number;
  byStatus: StatusCounts;
}

/**
 * One predict cycle: bring every model's price store up to the cycle's instant (from the prices the
 * ingest-prices workflow stored), ask for the predictions due at that instant and store every answer.
 * Everything is derived from the scheduled instant, so a retried or repeated cycle stores nothing twice.
 */
export async function predictCycle(input: PredictCycleInput = {}): Promise<PredictCycleResult> {
  const untilSec = runInstant(input.scheduledAt, 'scheduledAt');
  const game = gameOf(input);
  const periodSec = input.periodSec ?? 60;
  const shards = Math.max(1, Math.floor(input.shards ?? 1));
  const timeoutMs = input.timeoutMs ?? 60_000;
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(untilSec * 1000) }]);

  const groups = await postgres.loadPredictionGroups();
  const assets = [...new Set(groups.flatMap((group) => group.assets))];

  const due = duePredictions(untilSec, periodSec, groups);
  const models = modelCallsWithin(timeoutMs);
  const shardList = Array.from({ length: shards }, (_, index) => ({ index, count: shards }));
  const ticks = await Promise.all(shardList.map((shard) => models.tickModels({ game, assets, untilSec, shard })));
  const rounds =
    due.length === 0
      ? []
      : await Promise.all(
          shardList.map((shard) => models.predictShard({ game, assets, untilSec, shard, due, timeoutMs })),
        );

  const byStatus: StatusCounts = { SUCCESS: 0, FAILED: 0, TIMEOUT: 0, ABSENT: 0 };
  for (const round of rounds)
    for (const status of Object.keys(byStatus) as Array<keyof StatusCounts>) {
      byStatus[status] += round.byStatus[status];
    }
  const result: PredictCycleResult = {
    scheduledAt: new Date(untilSec * 1000).toISOString(),
    due: due.length,
    modelsTicked: ticks.reduce((sum, tick) => sum + tick.ticked + tick.upToDate, 0),
    modelsCalled: rounds.reduce((sum, round) => sum + round.modelsCalled, 0),
    predictionsStored: rounds.reduce((sum, round) => sum + round.stored, 0),
    byStatus,
  };
  upsertSearchAttributes([
    { key: searchAttributes.assets, value: [...new Set(due.map((d) => d.asset))] },
    { key: searchAttributes.modelsCalled, value: result.modelsCalled },
    { key: searchAttributes.predictionFailures, value: byStatus.FAILED + byStatus.TIMEOUT + byStatus.ABSENT },
  ]);
  return result;
}
