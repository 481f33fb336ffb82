import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ScoreListingActivities, ScoringActivities } from '../activities/index.js';
import type { ScoringCursor } from '../lib/db/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { taskQueues } from '../lib/temporal/task-queues.js';
import { type LeaderboardRefreshResult, leaderboardRefresh } from './leaderboard-refresh.js';

/** Defaults shared by the score pass and the backfill. */
export const scoringDefaults = { game: 'condor', batchSize: 500, parallelBatches: 2, maxBatchesPerRun: 100 } as const;

export interface ScorePassInput {
  /** The instant the pass stands for (ISO). Default: the schedule's scheduled time, else the start time. */
  asOf?: string;
  /** Game id (lib/game), default 'condor'; its scorer `scorer`, default the game's default scorer. */
  game?: string;
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

export interface ScoringProgress {
  /** The last prediction listed so far. */
  after: ScoringCursor | null;
  batches: number;
  /** Predictions scored, failed ones included. */
  scored: number;
  failed: number;
  /** Scores written (new or changed). */
  written: number;
  /** Predictions left unscored (prices not there yet, or no penalty for a failed one). */
  unscored: number;
  /** Runs so far (1 + continue-as-new count). */
  runs: number;
}

export interface ScorePassResult extends ScoringProgress {
  asOf: string;
  leaderboard: LeaderboardRefreshResult | null;
}

const listing = proxyActivities<ScoreListingActivities>({
  taskQueue: taskQueues.postgres,
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
});
const scoring = proxyActivities<ScoringActivities>({
  taskQueue: taskQueues.scoring,
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
});

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** Fails the workflow (not just its task) with a message for the operator: no retry fixes bad input. */
export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'BadInput');
}

/** Unix seconds (whole) of an ISO instant; `what` names it in the error. */
export function instantOf(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? new Date(value).getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw badInput(`${what} "${String(value)}" is not an ISO-8601 instant`);
  return Math.floor(ms / 1000);
}

export function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw badInput(`${what} must be a positive whole number, got ${value}`);
  return value;
}

export function emptyProgress(): ScoringProgress {
  return { after: null, batches: 0, scored: 0, failed: 0, written: 0, unscored: 0, runs: 1 };
}

export interface ScoreRangeOptions {
  game: string;
  scorer?: string;
  batchSize: number;
  parallelBatches: number;
  /** Batches to score in this run at most. */
  maxBatches: number;
  /** Range and mode of the listing (see lib/db scoringPage). */
  from?: number;
  to?: number;
  toInclusive?: boolean;
  rescore?: boolean;
  /** The instant the settlement limit is measured from (unix seconds); default: each activity's now. */
  asOf?: number;
  /** Called after each round of batches, e.g. to publish progress. */
  onProgress?: (progress: ScoringProgress) => void;
}

/**
 * Lists predictions to score page by page (ids only) and scores them in batches on the scoring queue,
 * moving a cursor forward so a prediction left unscored is not listed again in the same pass. Returns
 * whether everything listable was reached (false: stopped at maxBatches, continue as new).
 */
export async function scoreRange(
  options: ScoreRangeOptions,
  start: ScoringProgress,
): Promise<{ progress: ScoringProgress; drained: boolean }> {
  let progress = start;
  let batches = 0;
  const pageSize = options.batchSize * options.parallelBatches;
  while (batches < options.maxBatches) {
    const page = await listing.nextScoringPage({
      limit: pageSize,
      after: progress.after,
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.to !== undefined ? { to: options.to, toInclusive: options.toInclusive ?? false } : {}),
      rescore: options.rescore ?? false,
      game: options.game,
      ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
    });
    if (page.ids.length === 0) return { progress, drained: true };
    const chunks: number[][] = [];
    for (let i = 0; i < page.ids.length; i += options.batchSize) chunks.push(page.ids.slice(i, i + options.batchSize));
    const results = await Promise.all(
      chunks.map((predictionIds) =>
        scoring.scorePredictions({
          predictionIds,
          game: options.game,
          ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
          ...(options.scorer ? { scorer: options.scorer } : {}),
        }),
      ),
    );
    progress = {
      ...progress,
      after: page.next,
      batches: progress.batches + chunks.length,
      scored: progress.scored + results.reduce((sum, r) => sum + r.scored, 0),
      failed: progress.failed + results.reduce((sum, r) => sum + r.failed, 0),
      written: progress.written + results.reduce((sum, r) => sum + r.written, 0),
      unscored: progress.unscored + results.reduce((sum, r) => sum + r.unscored, 0),
    };
    batches += chunks.length;
    options.onProgress?.(progress);
    if (page.ids.length < pageSize) return { progress, drained: true };
  }
  return { progress, drained: false };
}

function passInstant(input: ScorePassInput): number {
  if (input.asOf !== undefined) return instantOf(input.asOf, 'asOf');
  const info = workflowInfo();
  const at = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  return Math.floor(at.getTime() / 1000);
}

/**
 * One score pass: scores every prediction whose prices are settled (or that is past the game's
 * settlement limit: then failed, "no settled price") and that has no score yet, in bounded batches on the `scoring` queue, then refreshes the leaderboard at the
 * pass's instant in a child workflow. A long pass continues as new every `maxBatchesPerRun` batches.
 */
export async function scorePass(input: ScorePassInput = {}): Promise<ScorePassResult> {
  const asOfSec = passInstant(input);
  const asOf = new Date(asOfSec * 1000).toISOString();
  const game = input.game ?? scoringDefaults.game;
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
        });
  return { asOf, ...progress, leaderboard };
}
