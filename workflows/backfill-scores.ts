import {
  continueAsNew,
  defineQuery,
  executeChild,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { type BackfillSlice, backfillSlices, iso, leaderboardInstantsOf } from '../lib/leaderboard/slices.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { badInput, gameOf, instantOf, positiveInteger } from './inputs.js';
import { postgres } from './queues.js';
import { emptyProgress, type ScoringProgress, scoreRange, scoringDefaults } from './score-range.js';

export interface BackfillScoresInput {
  /** The range of resolvable_at to score again (ISO-8601, both ends included). */
  from: string;
  to: string;
  /** Rescore predictions that already have a score (after a scoring change); default: only unscored ones (late prices). */
  rescore?: boolean;
  /**
   * First apply the pending price corrections (later values a source gave for stored minutes) of the
   * prices this range's predictions use, then rescore the range (rescore defaults to true then).
   * Corrections are never applied otherwise.
   */
  applyPriceCorrections?: boolean;
  /** Game id (lib/game), default the default game (it must be the workers'), and its scorer (default: the game's). */
  game?: string;
  scorer?: string;
  /** Length of one slice (one child workflow per phase), default 1 day. */
  sliceSeconds?: number;
  /** Leaderboards are recomputed at multiples of this since the epoch, plus wherever one exists; default 1 hour. */
  leaderboardEverySeconds?: number;
  batchSize?: number;
  parallelBatches?: number;
  maxBatchesPerRun?: number;
}

export interface BackfillProgress {
  /** Scores of every slice first, then the leaderboards of every slice (they depend on earlier scores). */
  phase: 'scoring' | 'leaderboards' | 'done';
  from: string;
  to: string;
  rescore: boolean;
  /** Stored prices replaced by their corrections (applyPriceCorrections), 0 otherwise. */
  pricesCorrected: number;
  slices: number;
  slicesScored: number;
  slicesRanked: number;
  /** Share of the work done, 0..1 (slice phases done / all). */
  fraction: number;
  predictionsScored: number;
  scoresWritten: number;
  leaderboards: number;
  /** The slice in progress (ISO start), null between phases. */
  currentSlice: string | null;
}

/** The progress of a backfill (and of each of its slices): `temporal workflow query --type progress`. */
export const progressQuery = defineQuery<BackfillProgress | BackfillSliceProgress>('progress');

export interface BackfillSliceInput {
  phase: 'scores' | 'leaderboards';
  slice: BackfillSlice;
  rescore: boolean;
  game: string;
  scorer?: string;
  batchSize: number;
  parallelBatches: number;
  maxBatchesPerRun: number;
  leaderboardEverySeconds: number;
  /** Carried by continue-as-new. */
  scoring?: ScoringProgress;
  instants?: number[];
  ranked?: number;
}

export interface BackfillSliceProgress {
  scoring: ScoringProgress;
  leaderboards: number;
  leaderboardsToDo: number;
}

export type BackfillSliceResult = BackfillSliceProgress;

/** Refreshes per run of a leaderboards slice before it continues as new. */
const REFRESHES_PER_RUN = 200;

/** One slice of a backfill: its predictions scored again, or its leaderboards recomputed. */
export async function backfillSlice(input: BackfillSliceInput): Promise<BackfillSliceResult> {
  const progress: BackfillSliceProgress = {
    scoring: input.scoring ?? emptyProgress(),
    leaderboards: input.ranked ?? 0,
    leaderboardsToDo: input.instants?.length ?? 0,
  };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(input.slice.from * 1000) }]);

  if (input.phase === 'scores') {
    const { progress: scored, drained } = await scoreRange(
      {
        game: input.game,
        ...(input.scorer ? { scorer: input.scorer } : {}),
        batchSize: input.batchSize,
        parallelBatches: input.parallelBatches,
        maxBatches: input.maxBatchesPerRun,
        from: input.slice.from,
        to: input.slice.to,
        toInclusive: input.slice.last,
        rescore: input.rescore,
        onProgress: (next) => {
          progress.scoring = next;
          upsertSearchAttributes([{ key: searchAttributes.predictionsScored, value: next.scored }]);
        },
      },
      progress.scoring,
    );
    if (!drained)
      return continueAsNew<typeof backfillSlice>({ ...input, scoring: { ...scored, runs: scored.runs + 1 } });
    progress.scoring = scored;
    return progress;
  }

  const instants =
    input.instants ??
    leaderboardInstantsOf(
      input.slice,
      input.leaderboardEverySeconds,
      await postgres.leaderboardInstants({ from: input.slice.from, to: input.slice.to }),
    );
  progress.leaderboardsToDo = instants.length;
  for (let done = 0; progress.leaderboards < instants.length; done++) {
    if (done === REFRESHES_PER_RUN) {
      return continueAsNew<typeof backfillSlice>({ ...input, instants, ranked: progress.leaderboards });
    }
    await postgres.refreshLeaderboard({
      asOf: instants[progress.leaderboards]!,
      game: input.game,
      ...(input.scorer ? { scorer: input.scorer } : {}),
    });
    progress.leaderboards++;
  }
  return progress;
}

/**
 * Scores a past range again (after a scoring change, or once late prices arrived) and recomputes its
 * leaderboard history, in child workflows per slice with ids derived from this workflow's id. Every
 * step is idempotent: running the same backfill twice changes nothing. Progress: the `progress` query,
 * the memo, the current details in the Web UI and the PredictionsScored search attribute.
 */
export async function backfillScores(input: BackfillScoresInput): Promise<BackfillProgress> {
  const from = instantOf(input?.from, 'from');
  const to = instantOf(input?.to, 'to');
  let slices: BackfillSlice[];
  try {
    slices = backfillSlices(from, to, positiveInteger(input.sliceSeconds, 86_400, 'sliceSeconds'), 500);
  } catch (error) {
    throw badInput((error as Error).message);
  }
  const common = {
    rescore: input.rescore ?? input.applyPriceCorrections ?? false,
    game: gameOf(input),
    ...(input.scorer ? { scorer: input.scorer } : {}),
    batchSize: positiveInteger(input.batchSize, scoringDefaults.batchSize, 'batchSize'),
    parallelBatches: positiveInteger(input.parallelBatches, scoringDefaults.parallelBatches, 'parallelBatches'),
    maxBatchesPerRun: positiveInteger(input.maxBatchesPerRun, scoringDefaults.maxBatchesPerRun, 'maxBatchesPerRun'),
    leaderboardEverySeconds: positiveInteger(input.leaderboardEverySeconds, 3_600, 'leaderboardEverySeconds'),
  };
  const progress: BackfillProgress = {
    phase: 'scoring',
    from: iso(from),
    to: iso(to),
    rescore: common.rescore,
    pricesCorrected: 0,
    slices: slices.length,
    slicesScored: 0,
    slicesRanked: 0,
    fraction: 0,
    predictionsScored: 0,
    scoresWritten: 0,
    leaderboards: 0,
    currentSlice: null,
  };
  setHandler(progressQuery, () => progress);
  const publish = () => {
    progress.fraction = (progress.slicesScored + progress.slicesRanked) / (2 * progress.slices);
    const details =
      `${progress.phase}: ${progress.slicesScored}/${progress.slices} slices scored, ` +
      `${progress.slicesRanked}/${progress.slices} ranked; ${progress.predictionsScored} predictions scored, ` +
      `${progress.scoresWritten} scores written, ${progress.leaderboards} leaderboards`;
    setCurrentDetails(details);
    upsertMemo({ progress: details });
    upsertSearchAttributes([{ key: searchAttributes.predictionsScored, value: progress.predictionsScored }]);
  };
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(from * 1000) }]);
  publish();
  if (input.applyPriceCorrections) {
    progress.pricesCorrected = (await postgres.applyPriceCorrections({ from, to })).applied;
  }

  const parentId = workflowInfo().workflowId;
  for (const phase of ['scores', 'leaderboards'] as const) {
    progress.phase = phase === 'scores' ? 'scoring' : 'leaderboards';
    for (const slice of slices) {
      progress.currentSlice = iso(slice.from);
      const result = await executeChild(backfillSlice, {
        workflowId: `${parentId}/slice-${iso(slice.from)}/${phase}`,
        args: [{ phase, slice, ...common }],
        // Each run of a slice continues as new every few pages: one that runs an hour is stuck.
        workflowRunTimeout: '1 hour',
      });
      if (phase === 'scores') {
        progress.slicesScored++;
        progress.predictionsScored += result.scoring.scored;
        progress.scoresWritten += result.scoring.written;
      } else {
        progress.slicesRanked++;
        progress.leaderboards += result.leaderboards;
      }
      publish();
    }
  }
  progress.phase = 'done';
  progress.currentSlice = null;
  publish();
  return progress;
}
