import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { lastPerKey, nonEmpty, parseRows, unixSeconds } from './validate.js';

export const scorablePrediction = z.object({
  id: z.number(),
  modelId: z.string(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  status: z.string(),
  /** Unix seconds. */
  resolvableAt: z.number(),
});
export type ScorablePrediction = z.infer<typeof scorablePrediction>;

/**
 * References to unscored predictions whose resolvable_at is covered by their asset's stored prices,
 * oldest first, at most `limit` (a score pass works in bounded batches and loads bodies itself).
 * Assets are those of prediction_configs, active or not.
 */
export async function scorablePredictions(
  db: CommonQueryMethods,
  options: { limit: number },
): Promise<ScorablePrediction[]> {
  const limit = z.number().int().positive().parse(options.limit);
  const rows = await db.any(sql.type(scorablePrediction)`
    SELECT p.id, p.model_id AS "modelId", p.asset, p.horizon, p.step, p.status,
           extract(epoch FROM p.resolvable_at)::float8 AS "resolvableAt"
    FROM (SELECT DISTINCT asset FROM prediction_configs) a
    CROSS JOIN LATERAL (SELECT max(ts) AS ts FROM prices WHERE prices.asset = a.asset) latest
    CROSS JOIN LATERAL (
      SELECT * FROM predictions p
      WHERE p.asset = a.asset AND p.scored_at IS NULL AND p.resolvable_at <= latest.ts
      ORDER BY p.resolvable_at
      LIMIT ${limit}
    ) p
    ORDER BY p.resolvable_at, p.id
    LIMIT ${limit}
  `);
  return [...rows];
}

const scoreInput = z.object({
  predictionId: z.number().int().positive(),
  value: z.number().finite(),
  success: z.boolean(),
  failedReason: z.string().nullish(),
  /** Which scoring produced it, e.g. `condor-likelihood`. */
  scorer: nonEmpty,
  /** Unix seconds (default now). */
  scoredAt: unixSeconds.optional(),
});
export type ScoreInput = z.input<typeof scoreInput>;

/**
 * Writes scores in one statement; a prediction scored again gets its score replaced. Also stamps
 * predictions.scored_at, which keeps scored predictions out of the "left to score" index. Scores of
 * predictions that no longer exist (pruned meanwhile) are dropped. Returns how many were written.
 */
export async function recordScores(db: CommonQueryMethods, scores: readonly ScoreInput[]): Promise<number> {
  const rows = lastPerKey(parseRows('recordScores', scoreInput, scores), (row) => String(row.predictionId));
  if (rows.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    WITH input AS (
      SELECT i.prediction_id, i.value, i.success, i.failed_reason, i.scorer,
             coalesce(to_timestamp(i.scored_at), now()) AS scored_at
      FROM ${sql.unnest(
        rows.map((row) => [
          row.predictionId,
          row.value,
          row.success,
          row.failedReason ?? null,
          row.scorer,
          row.scoredAt ?? null,
        ]),
        ['int8', 'float8', 'bool', 'text', 'text', 'float8'],
      )} AS i (prediction_id, value, success, failed_reason, scorer, scored_at)
      JOIN predictions p ON p.id = i.prediction_id
    ),
    stamped AS (
      UPDATE predictions p SET scored_at = input.scored_at FROM input WHERE p.id = input.prediction_id
    )
    INSERT INTO scores (prediction_id, value, success, failed_reason, scorer, scored_at)
    SELECT prediction_id, value, success, failed_reason, scorer, scored_at FROM input
    ON CONFLICT (prediction_id) DO UPDATE SET
      value = excluded.value,
      success = excluded.success,
      failed_reason = excluded.failed_reason,
      scorer = excluded.scorer,
      scored_at = excluded.scored_at
  `);
  return result.rowCount;
}
