// Helpers of the leaderboard, score-pass and backfill tests: scored histories written straight with SQL,
// and the same data read back in the shape of lib/game's pure reference.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import type { ScoredPrediction } from '../lib/game/index.js';

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

/** A small seeded generator (mulberry32), so a failing random history can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
