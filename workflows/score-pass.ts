import { continueAsNew, executeChild, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { MerkleCycleSummary } from '../activities/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { gameOf, positiveInteger, runInstant } from './inputs.js';
import { type LeaderboardRefreshResult, leaderboardRefresh } from './leaderboard-refresh.js';
import { postgres } from './queues.js';
import {
  emptyProgress,
  type ScoreRangeOptions,
  type ScoringProgress,
  scoreRange,
  scoringDefaults,
} from './score-range.js';

export interface ScorePassInput {
  /** The instant the pass stands for (ISO). Default: the schedule's scheduled time, else the start time. */
  asOf?: string;
  /** Game id (lib/game), default the default game; it must be the workers' game. */
  game?: string;
  /** A scorer of the game, default the game's default scorer. */
  scorer?: string;
  /** Predictions per scoring batch (the failure penalty is per batch), default 500. */
  batchSize?: number;
  /** Batches scored at once, default 2 (spread over the scoring workers). */
  parallelBatches?: number;
  /** Batches per run before continuing as new, so the history stays small; default 100. */
  maxBatchesPerRun?: number;
  /** Refresh the leaderboard at asOf afterwards (default true), and apply retention then (default true). */
  refreshLeaderboard?: boolean;
  retention?: boolean;
  /** Carried from one run to the next by continue-as-new; callers leave it out. */
  progress?: ScoringProgress;
}

export interface ScorePassResult extends ScoringProgress {
  asOf: string;
  leaderboard: LeaderboardRefreshResult | null;
  /** The Merkle cycle of the pass's snapshots (null without a leaderboard refresh). */
  merkleCycle?: MerkleCycleSummary | null;
}

/**
 * One score pass: scores every prediction whose prices are settled (or that is past the game's
 * settlement limit: then failed, "no settled price") and that has no score yet, in bounded batches on the `scoring` queue, then refreshes the leaderboard at the
 * pass's instant in a child workflow, and hashes the snapshots it wrote into the Merkle chain that emission
 * checkpoints commit to. A long pass continues as new every `maxBatchesPerRun` batches.
 */
export async function scorePass(input: ScorePassInput = {}): Promise<ScorePassResult> {
  const asOfSec = runInstant(input.asOf, 'asOf');
  const asOf = new Date(asOfSec * 1000).toISOString();
  const game = gameOf(input);
  const options: ScoreRangeOptions = {
    game,
    ...(input.scorer ? { scorer: input.scorer } : {}),
    asOf: asOfSec,
    batchSize: positiveInteger(input.batchSize, scoringDefaults.batchSize, 'batchSize'),
    parallelBatches: positiveInteger(input.parallelBatches, scoringDefaults.parallelBatches, 'parallelBatches'),
    maxBatches: positiveInteger(input.maxBatchesPerRun, scoringDefaults.maxBatchesPerRun, 'maxBatchesPerRun'),
    onProgress: (progress) =>
      upsertSearchAttributes([{ key: searchAttributes.predictionsScored, value: progress.scored }]),
  };
  upsertSearchAttributes([
    { key: searchAttributes.cycleTime, value: new Date(asOfSec * 1000) },
    { key: searchAttributes.predictionsScored, value: input.progress?.scored ?? 0 },
  ]);

  const { progress, drained } = await scoreRange(options, input.progress ?? emptyProgress());
  if (!drained) {
    return continueAsNew<typeof scorePass>({ ...input, asOf, progress: { ...progress, runs: progress.runs + 1 } });
  }
  const leaderboard =
    input.refreshLeaderboard === false
      ? null
      : await executeChild(leaderboardRefresh, {
          workflowId: `${workflowInfo().workflowId}/leaderboard`,
          args: [{ asOf, game, ...(input.scorer ? { scorer: input.scorer } : {}), retention: input.retention ?? true }],
          // Its activities are bounded to 30 minutes each (a refresh after a large rescore, then retention).
          workflowRunTimeout: '1 hour',
        });
  // Runs recorded before the Merkle chain existed replay without this step.
  const merkleCycle =
    leaderboard !== null && patched('merkle-cycle') ? await postgres.appendMerkleCycle({ asOf: asOfSec }) : null;
  return { asOf, ...progress, leaderboard, merkleCycle };
}
