// The scoring loop the score pass and the backfill share: list what to score page by page, score it in
// batches on the scoring queue. Not a workflow: code both workflows run.
import type { ScoringCursor } from '../lib/db/index.js';
import { postgres, scoring } from './queues.js';

/** Defaults shared by the score pass and the backfill. */
export const scoringDefaults = { batchSize: 500, parallelBatches: 2, maxBatchesPerRun: 100 } as const;

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
    const page = await postgres.nextScoringPage({
      limit: pageSize,
      after: progress.after,
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.to !== undefined ? { to: options.to, toInclusive: options.toInclusive ?? false } : {}),
      rescore: options.rescore ?? false,
    });
    if (page.ids.length === 0) return { progress, drained: true };
    const chunks: number[][] = [];
    for (let i = 0; i < page.ids.length; i += options.batchSize) chunks.push(page.ids.slice(i, i + options.batchSize));
    const results = await Promise.all(
      chunks.map((predictionIds) =>
        scoring.scorePredictions({
          predictionIds,
          game: options.game,
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
