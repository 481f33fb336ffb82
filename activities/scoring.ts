import { Context } from '@temporalio/activity';
import {
  type BatchPrediction,
  type DatabasePool,
  loadScoringBatch,
  pricesAround,
  recordScores,
  type ScoreInput,
  type ScoringPage,
  type ScoringPageOptions,
  type SettlementOptions,
  scoringPage,
} from '../lib/db/index.js';
import { type GameDefinition, PriceSeries, withFailurePenalty } from '../lib/game/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { ScoreThreads } from '../lib/score-threads/index.js';
import { resolveScorer, type ScorerChoice, workerGame } from './game.js';
import { withHeartbeat } from './heartbeat.js';

export interface ScoringDeps {
  db: DatabasePool;
  /** The worker's game (the GAME setting): a batch of another game is refused. */
  game: GameDefinition;
  logger?: Logger;
  /** Where the scoring arithmetic runs (default: a pool of its own, the cores but one). */
  threads?: ScoreThreads;
}

export interface ScorePredictionsInput extends ScorerChoice {
  /** One scoring batch: the failure penalty is the batch's (docs/game.md#likelihood step 5). */
  predictionIds: number[];
  /** The pass's instant (unix seconds), for the settlement limit; default now. */
  asOf?: number;
}

/** The listing's input: a page, and the game whose settlement rules say which predictions are ready. */
export interface NextScoringPageInput extends ScoringPageOptions {
  game?: string;
  /** The pass's instant (unix seconds), for the settlement limit; default now. */
  asOf?: number;
}

/** The settlement rules of a game at an instant, as the listing and the batch read them. */
export function settlementAt(game: GameDefinition, asOf: number | undefined): SettlementOptions {
  const now = asOf ?? Date.now() / 1000;
  const { stalenessSeconds, reachSeconds, limitSeconds } = game.settlement;
  return { stalenessSeconds, reachSeconds, expiredBefore: now - limitSeconds };
}

export interface ScorePredictionsResult {
  /** Predictions found (ids of deleted ones are skipped). */
  predictions: number;
  /** Scored, failed ones included. */
  scored: number;
  /** Scored as failed (status, shape, density or non-finite score), carrying the batch's penalty. */
  failed: number;
  /** Scores written: new ones and changed ones (a rescore leaves equal scores untouched). */
  written: number;
  /** Left unscored: prices not settled yet, or the scorer has no penalty for a failed one in this batch. */
  unscored: number;
}

/** Prices of each asset of the batch, from its earliest performed_at to its latest resolvable_at. */
async function seriesFor(db: DatabasePool, predictions: readonly BatchPrediction[]): Promise<Map<string, PriceSeries>> {
  const ranges = new Map<string, { from: number; to: number }>();
  for (const prediction of predictions) {
    const range = ranges.get(prediction.asset);
    if (range === undefined) {
      ranges.set(prediction.asset, { from: prediction.performedAt, to: prediction.resolvableAt });
    } else {
      range.from = Math.min(range.from, prediction.performedAt);
      range.to = Math.max(range.to, prediction.resolvableAt);
    }
  }
  const series = new Map<string, PriceSeries>();
  for (const [asset, range] of ranges) {
    const points = await pricesAround(db, asset, range.from, range.to);
    series.set(
      asset,
      PriceSeries.fromPoints(
        points.map((point) => [point.ts, point.price] as const),
        asset,
      ),
    );
  }
  return series;
}

const sameScore = (current: BatchPrediction['current'], next: ScoreInput): boolean =>
  current !== null &&
  current.value === next.value &&
  current.success === next.success &&
  current.failedReason === (next.failedReason ?? null) &&
  current.scorer === next.scorer;

/** Scoring (CPU-bound): runs on the `scoring` queue. */
export function createScoringActivities(deps: ScoringDeps) {
  const log = deps.logger ?? createLogger('scoring');
  // Off the event loop: a score pass must not stall the gateway, heartbeats or model deadlines that
  // share the process (`coordinator start` runs everything in one).
  const threads = deps.threads ?? new ScoreThreads();
  return {
    /**
     * Scores one batch and writes its scores. The activity reads the batch itself (bodies are ~40 KB
     * each: they never travel through workflow history) and writes what changed, so a retry is a
     * harmless upsert and the history only carries ids and counts.
     */
    async scorePredictions(input: ScorePredictionsInput): Promise<ScorePredictionsResult> {
      const { game, scorer, label } = resolveScorer(input, deps.game);
      const settlement = settlementAt(game, input.asOf);
      const context = Context.current();
      return withHeartbeat(async () => {
        const predictions = await loadScoringBatch(deps.db, input.predictionIds, settlement);
        const series = await seriesFor(deps.db, predictions);
        // Scored once every step's price is settled (docs/game.md#where-we-differ-from-crunchdaos-code:
        // never before its prices reach resolvable_at); past the game's limit, an unsettled one is scored
        // failed ("no settled price"), never against a stale price.
        const ready = predictions.filter((p) => p.settled || p.resolvableAt < settlement.expiredBefore!);
        const each = await threads.score(
          { game: game.id, ...(input.scorer ? { scorer: input.scorer } : {}), predictions: ready, series },
          {
            signal: context.cancellationSignal,
            onProgress: (done, total) => context.heartbeat({ scored: done, of: total }),
          },
        );
        const results = withFailurePenalty(scorer, each);
        const changed: ScoreInput[] = [];
        let scored = 0;
        let failed = 0;
        ready.forEach((prediction, index) => {
          const result = results[index]!;
          if (result.score === null) return;
          scored++;
          if (!result.success) failed++;
          const next: ScoreInput = {
            predictionId: prediction.id,
            value: result.score,
            success: result.success,
            failedReason: result.reason,
            scorer: label,
          };
          if (!sameScore(prediction.current, next)) changed.push(next);
        });
        const written = await recordScores(deps.db, changed);
        const result: ScorePredictionsResult = {
          predictions: predictions.length,
          scored,
          failed,
          written,
          unscored: predictions.length - scored,
        };
        log.info(
          { ...result, scorer: label },
          `scored ${scored} of ${predictions.length} predictions (${failed} failed), wrote ${written} new or changed scores`,
        );
        return result;
      });
    },
  };
}

export type ScoringActivities = ReturnType<typeof createScoringActivities>;

/** The score pass's reads of what to score next: they run on the `postgres` queue. */
export function createScoreListingActivities(deps: { db: DatabasePool; game: GameDefinition }) {
  return {
    /** The next page of predictions to score (ids only), after a cursor, optionally within a range. */
    async nextScoringPage(input: NextScoringPageInput): Promise<ScoringPage> {
      const { game, asOf, ...page } = input;
      const settlement = settlementAt(workerGame(game ?? deps.game.id, deps.game), asOf);
      return scoringPage(deps.db, { ...page, settlement });
    },
  };
}

export type ScoreListingActivities = ReturnType<typeof createScoreListingActivities>;
