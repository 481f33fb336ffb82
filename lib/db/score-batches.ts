// The reads of a scoring batch: which predictions to score next (as references, page by page), and
// everything scoring one batch needs (bodies, current scores, the prices around them).
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { scorablePrediction } from './scores.js';
import { seconds } from './validate.js';

/**
 * Where a listing stopped: the last prediction returned, by (resolvable_at, id). The time is ISO-8601
 * with microseconds, PostgreSQL's own precision, so the next page starts exactly after it (a float of
 * seconds could be off by a microsecond and skip or repeat a row).
 */
export interface ScoringCursor {
  resolvableAt: string;
  id: number;
}

export interface ScoringPage {
  /** Prediction ids, by resolvable_at then id. */
  ids: number[];
  /** Pass it back as `after` for the next page; null when the page is empty. */
  next: ScoringCursor | null;
}

export interface ScoringPageOptions {
  limit: number;
  /** Start after this prediction (exclusive). */
  after?: ScoringCursor | null;
  /** Only predictions with resolvable_at >= from (unix seconds). */
  from?: number;
  /** Only predictions with resolvable_at < to, or <= to with toInclusive (unix seconds). */
  to?: number;
  toInclusive?: boolean;
  /** Include predictions that already have a score (a rescore); by default only unscored ones. */
  rescore?: boolean;
}

const pageRow = z.object({ id: z.number(), cursorAt: z.string() });
const cursorSchema = z.object({ resolvableAt: z.string().min(1), id: z.number().int() });

/**
 * A page of predictions to score: those whose resolvable_at is covered by their asset's stored prices
 * (docs/game.md#where-we-differ-from-crunchdaos-code: never before), unscored unless `rescore`, optionally within [from, to), oldest first.
 * Assets are those of prediction_configs, active or not, as in scorablePredictions.
 */
export async function scoringPage(db: CommonQueryMethods, options: ScoringPageOptions): Promise<ScoringPage> {
  const limit = z.number().int().positive().parse(options.limit);
  const after = options.after ? cursorSchema.parse(options.after) : null;
  const conditions = [sql.fragment`p.resolvable_at <= latest.ts`];
  if (!options.rescore) conditions.push(sql.fragment`p.scored_at IS NULL`);
  if (after) {
    conditions.push(sql.fragment`(p.resolvable_at, p.id) > (${after.resolvableAt}::timestamptz, ${after.id}::bigint)`);
  }
  if (options.from !== undefined) {
    conditions.push(sql.fragment`p.resolvable_at >= to_timestamp(${seconds(options.from, 'from')}::float8)`);
  }
  if (options.to !== undefined) {
    const to = sql.fragment`to_timestamp(${seconds(options.to, 'to')}::float8)`;
    conditions.push(
      options.toInclusive ? sql.fragment`p.resolvable_at <= ${to}` : sql.fragment`p.resolvable_at < ${to}`,
    );
  }
  // Per asset, so the unscored case walks the small partial index (asset, resolvable_at) WHERE scored_at IS NULL.
  const rows = await db.any(sql.type(pageRow)`
    SELECT p.id, to_char(p.resolvable_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt"
    FROM (SELECT DISTINCT asset FROM prediction_configs) a
    CROSS JOIN LATERAL (SELECT max(ts) AS ts FROM prices WHERE prices.asset = a.asset) latest
    CROSS JOIN LATERAL (
      SELECT p.id, p.resolvable_at FROM predictions p
      WHERE p.asset = a.asset AND ${sql.join(conditions, sql.fragment` AND `)}
      ORDER BY p.resolvable_at, p.id
      LIMIT ${limit}
    ) p
    ORDER BY p.resolvable_at, p.id
    LIMIT ${limit}
  `);
  const last = rows.at(-1);
  return { ids: rows.map((row) => row.id), next: last ? { resolvableAt: last.cursorAt, id: last.id } : null };
}

/** A scorable prediction with its body and its current score, if any. */
const batchRow = scorablePrediction.extend({
  distributions: z.unknown(),
  /** Unix seconds. */
  performedAt: z.number(),
  scoreValue: z.number().nullable(),
  scoreSuccess: z.boolean().nullable(),
  scoreFailedReason: z.string().nullable(),
  scorer: z.string().nullable(),
});

export interface CurrentScore {
  value: number;
  success: boolean;
  failedReason: string | null;
  scorer: string;
}

export interface BatchPrediction {
  id: number;
  modelId: string;
  asset: string;
  horizon: number;
  step: number;
  status: string;
  distributions: unknown;
  performedAt: number;
  resolvableAt: number;
  /** The stored score, if any (a rescore writes only what changed). */
  current: CurrentScore | null;
}

/** The predictions with these ids, bodies and current scores included, by resolvable_at then id. */
export async function loadScoringBatch(db: CommonQueryMethods, ids: readonly number[]): Promise<BatchPrediction[]> {
  const checked = z.array(z.number().int().positive()).parse(ids);
  if (checked.length === 0) return [];
  const rows = await db.any(sql.type(batchRow)`
    SELECT p.id, p.model_id AS "modelId", p.asset, p.horizon, p.step, p.status, p.distributions,
           extract(epoch FROM p.performed_at)::float8 AS "performedAt",
           extract(epoch FROM p.resolvable_at)::float8 AS "resolvableAt",
           s.value AS "scoreValue", s.success AS "scoreSuccess", s.failed_reason AS "scoreFailedReason", s.scorer
    FROM predictions p
    LEFT JOIN scores s ON s.prediction_id = p.id
    WHERE p.id = ANY(${sql.array(checked, 'int8')})
    ORDER BY p.resolvable_at, p.id
  `);
  return rows.map(({ scoreValue, scoreSuccess, scoreFailedReason, scorer, distributions, ...prediction }) => ({
    ...prediction,
    distributions: distributions ?? null,
    current:
      scoreValue === null || scoreSuccess === null || scorer === null
        ? null
        : { value: scoreValue, success: scoreSuccess, failedReason: scoreFailedReason, scorer },
  }));
}

const pricePoint = z.object({ ts: z.number(), price: z.number() });

/**
 * An asset's prices with from <= ts <= to plus the nearest point on each side (unix seconds, oldest
 * first): the closest-price rule then picks on this slice what it would pick on the whole series.
 */
export async function pricesAround(
  db: CommonQueryMethods,
  asset: string,
  from: number,
  to: number,
): Promise<Array<{ ts: number; price: number }>> {
  const start = sql.fragment`to_timestamp(${seconds(from, 'from')}::float8)`;
  const end = sql.fragment`to_timestamp(${seconds(to, 'to')}::float8)`;
  const rows = await db.any(sql.type(pricePoint)`
    SELECT extract(epoch FROM ts)::float8 AS ts, price FROM prices
    WHERE asset = ${asset}
      AND ts >= coalesce((SELECT max(ts) FROM prices WHERE asset = ${asset} AND ts <= ${start}), ${start})
      AND ts <= coalesce((SELECT min(ts) FROM prices WHERE asset = ${asset} AND ts >= ${end}), ${end})
    ORDER BY ts
  `);
  return [...rows];
}
