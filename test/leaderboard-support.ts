// Helpers of the leaderboard, score-pass and backfill tests: scored histories and predictions written
// straight with SQL, prices from a synthetic source, and the same data read back in the shape of
// lib/game's pure reference, with the scores and rankings that reference gives.
import { type CommonQueryMethods, type FragmentSqlToken, sql } from 'slonik';
import { expect } from 'vitest';
import { z } from 'zod';
import { insertPrices } from '../lib/db/index.js';
import {
  condor,
  getScorer,
  groupWindowScores,
  modelWindowScores,
  PriceSeries,
  rankModels,
  type ScorablePrediction,
  type ScoredPrediction,
} from '../lib/game/index.js';
import type { PricePoint, PriceSource } from '../lib/market-data/index.js';

export const DAY = 86_400;

export interface ScoredRow {
  modelId: string;
  asset?: string;
  horizon?: number;
  step?: number;
  /** Unix seconds. */
  resolvableAt: number;
  value: number;
  /** Default true; a failed one is stored as status FAILED with success = false. */
  success?: boolean;
}

export async function insertModels(db: CommonQueryMethods, ids: readonly string[]): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO models (model_id, name) SELECT id, 'model ' || id FROM unnest(${sql.array(ids, 'text')}) AS id
    ON CONFLICT DO NOTHING
  `);
}

/** Inserts predictions (performed_at = resolvable_at - horizon) and their scores; returns the prediction ids in order. */
export async function insertScored(db: CommonQueryMethods, rows: readonly ScoredRow[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const full = rows.map((row) => ({
    asset: 'BTC',
    horizon: 3600,
    step: 60,
    success: true,
    ...row,
  }));
  return db.transaction(async (tx) => {
    const ids = await tx.anyFirst(sql.type(z.object({ id: z.number() }))`
      INSERT INTO predictions (model_id, asset, horizon, step, status, performed_at, resolvable_at)
      SELECT model_id, asset, horizon, step, CASE WHEN success THEN 'SUCCESS' ELSE 'FAILED' END,
             to_timestamp(resolvable_at - horizon), to_timestamp(resolvable_at)
      FROM ${sql.unnest(
        full.map((row) => [row.modelId, row.asset, row.horizon, row.step, row.success, row.resolvableAt]),
        ['text', 'text', 'int4', 'int4', 'bool', 'float8'],
      )} AS i (model_id, asset, horizon, step, success, resolvable_at)
      RETURNING id
    `);
    await tx.query(sql.unsafe`
      INSERT INTO scores (prediction_id, value, success, failed_reason, scorer)
      SELECT id, value, success, CASE WHEN success THEN NULL ELSE 'made to fail by the test' END, 'test'
      FROM ${sql.unnest(
        full.map((row, index) => [ids[index]!, row.value, row.success]),
        ['int8', 'float8', 'bool'],
      )} AS i (id, value, success)
    `);
    await tx.query(sql.unsafe`
      UPDATE predictions SET scored_at = now() WHERE id = ANY(${sql.array(ids, 'int8')})
    `);
    return [...ids];
  });
}

const scoredPrediction = z.object({
  modelId: z.string(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  resolvableAt: z.number(),
  value: z.number(),
});

/** Every stored score with its prediction's group and time: the input of lib/game's reference windows. */
export async function storedScores(db: CommonQueryMethods): Promise<ScoredPrediction[]> {
  const rows = await db.any(sql.type(scoredPrediction)`
    SELECT p.model_id AS "modelId", p.asset, p.horizon, p.step,
           extract(epoch FROM p.resolvable_at)::float8 AS "resolvableAt", s.value
    FROM scores s JOIN predictions p ON p.id = s.prediction_id
    ORDER BY p.id
  `);
  return [...rows];
}

/** Expects two numbers (or nulls) to agree to 12 significant digits. */
export function closeTo(actual: number | null, expected: number | null): boolean {
  if (actual === null || expected === null) return actual === expected;
  return Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));
}

/** A one-component normal mixture, the density the score-pass and backfill models answer. */
export const norm = (scale: number) => ({
  type: 'mixture',
  components: [{ density: { type: 'builtin', name: 'norm', params: { loc: 0, scale } }, weight: 1 }],
});

/** A prediction to store as the predict cycle would have (its distributions as JSON). */
export interface PlannedPrediction {
  modelId: string;
  asset: string;
  /** Unix seconds; resolvable_at = performedAt + horizon. */
  performedAt: number;
  status: 'SUCCESS' | 'FAILED' | 'TIMEOUT';
  distributions: unknown;
}

/** Stores planned predictions of one (horizon, step), unscored. */
export async function insertPlannedPredictions(
  db: CommonQueryMethods,
  planned: readonly PlannedPrediction[],
  { horizon, step }: { horizon: number; step: number },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO predictions (model_id, asset, horizon, step, status, distributions, performed_at, resolvable_at)
    SELECT "modelId", asset, ${horizon}, ${step}, status, distributions, to_timestamp("performedAt"),
           to_timestamp("performedAt" + ${horizon})
    FROM jsonb_to_recordset(${JSON.stringify(planned)}::jsonb)
      AS p ("modelId" text, asset text, status text, distributions jsonb, "performedAt" float8)
  `);
}

/**
 * One old score per (model, asset) of a group at `resolvableAt`, valued by the model's index, so the
 * leaderboard has a value in every window.
 */
export function earlierScores(
  models: readonly string[],
  assets: readonly string[],
  group: { horizon: number; step: number; resolvableAt: number },
): ScoredRow[] {
  return models.flatMap((modelId, i) => assets.map((asset) => ({ modelId, asset, ...group, value: i })));
}

/** The source's prices of each asset over [fromSec, toSec]: the points (to store) and their lib/game series. */
export async function sourcePrices(
  source: PriceSource,
  assets: readonly string[],
  fromSec: number,
  toSec: number,
): Promise<Map<string, { points: PricePoint[]; series: PriceSeries }>> {
  const prices = new Map<string, { points: PricePoint[]; series: PriceSeries }>();
  for (const asset of assets) {
    const points = await source.fetch(asset, fromSec, toSec);
    prices.set(asset, {
      points,
      series: PriceSeries.fromPoints(points.map((point) => [point.ts, point.price] as const)),
    });
  }
  return prices;
}

/** Stores one asset's points in the prices table. */
export async function storePrices(db: CommonQueryMethods, asset: string, points: readonly PricePoint[]): Promise<void> {
  await insertPrices(
    db,
    points.map((point) => ({ asset, ...point })),
    'test',
  );
}

export const predictionWithScore = z.object({
  id: z.number(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  status: z.string(),
  distributions: z.unknown(),
  resolvableAt: z.number(),
  value: z.number().nullable(),
  success: z.boolean().nullable(),
  reason: z.string().nullable(),
  scorer: z.string().nullable(),
  scoredAt: z.number().nullable(),
});
export type PredictionWithScore = z.infer<typeof predictionWithScore>;

/** The predictions matching `where` (on `p`), each with its score if it has one, in id order. */
export async function predictionsWithScores(
  db: CommonQueryMethods,
  where: FragmentSqlToken,
): Promise<PredictionWithScore[]> {
  const rows = await db.any(sql.type(predictionWithScore)`
    SELECT p.id, p.asset, p.horizon, p.step, p.status, p.distributions,
           extract(epoch FROM p.resolvable_at)::float8 AS "resolvableAt",
           s.value, s.success, s.failed_reason AS reason, s.scorer,
           extract(epoch FROM p.scored_at)::float8 AS "scoredAt"
    FROM predictions p LEFT JOIN scores s ON s.prediction_id = p.id
    WHERE ${where}
    ORDER BY p.id
  `);
  return [...rows];
}

/**
 * The score stored for a prediction as Condor's likelihood scorer gives it on the full price series:
 * a failed one carries the batch's penalty (0 for densities) and the scorer's reason.
 */
export function referenceScore(
  row: PredictionWithScore,
  series: PriceSeries,
): { value: number; success: boolean; reason: string | null } {
  const result = getScorer(condor, 'likelihood').score(row as ScorablePrediction, series);
  return { value: result.success ? result.score : 0, success: result.success, reason: result.reason };
}

/** A stored leaderboard's entries, best first. */
export interface StoredEntry {
  modelId: string;
  anchor: number | null;
  recent: number | null;
}

/** Expects stored entries at `asOf` to rank and score the models as lib/game's reference does on `stored`. */
export function expectReferenceRanking(
  entries: readonly StoredEntry[],
  stored: readonly ScoredPrediction[],
  asOf: number,
): void {
  const reference = rankModels(modelWindowScores(groupWindowScores(stored, asOf, condor.windows)), 'higher-is-better');
  expect(entries.map((entry) => entry.modelId)).toEqual(reference.map((model) => model.modelId));
  entries.forEach((entry, index) => {
    expect(closeTo(entry.anchor, reference[index]!.anchor)).toBe(true);
    expect(closeTo(entry.recent, reference[index]!.recent)).toBe(true);
  });
}

/**
 * The score-pass seed: models, their planned 5-minute predictions (1-minute steps) on BTC and ETH, and one
 * scored prediction per model and asset 8 days before `at`, so every window of the leaderboard has a value.
 */
export async function seedPlannedGame(
  db: CommonQueryMethods,
  options: { models: readonly string[]; planned: readonly PlannedPrediction[]; at: number },
): Promise<void> {
  await insertModels(db, options.models);
  await insertPlannedPredictions(db, options.planned, { horizon: 300, step: 60 });
  await insertScored(
    db,
    earlierScores(options.models, ['BTC', 'ETH'], { horizon: 300, step: 60, resolvableAt: options.at - 8 * DAY }),
  );
}
