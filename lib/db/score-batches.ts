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
  /** Which predictions are ready: settled ones, and unsettled ones past the limit (default: 60 s / 30 s, no limit). */
  settlement?: SettlementOptions;
}

/** What settles a prediction's prices (a game's `settlement`, see lib/game). */
export interface SettlementRule {
  /** A step is settled when a stored price lies within this many seconds of its time. */
  stalenessSeconds: number;
  /** The asset's newest stored point must be no earlier than resolvable_at minus this. */
  reachSeconds: number;
}

export interface SettlementOptions extends SettlementRule {
  /** Predictions with resolvable_at before this (unix seconds) are listed even unsettled: they are scored failed. */
  expiredBefore?: number;
}

const defaultSettlement: SettlementOptions = { stalenessSeconds: 60, reachSeconds: 30 };

/**
 * True when prediction `p`'s asset has prices up to its resolvable_at, less `reach` (`newest`: the
 * asset's newest stored point; docs/game.md#where-we-differ-from-crunchdaos-code), and every step time
 * (resolvable_at - k·step, k = 0..horizon/step) has a stored price within the bound: the closest-price
 * rule then never reaches further than that.
 */
function settled({ bound, reach }: CheckedSettlement, newest: ReturnType<typeof sql.fragment>) {
  return sql.fragment`${newest} >= p.resolvable_at - make_interval(secs => ${reach}::float8) AND NOT EXISTS (
    SELECT 1 FROM generate_series(0, p.horizon / p.step) AS k
    WHERE NOT EXISTS (
      SELECT 1 FROM prices x
      WHERE x.asset = p.asset
        AND x.ts BETWEEN p.resolvable_at - make_interval(secs => k * p.step + ${bound}::float8)
                     AND p.resolvable_at - make_interval(secs => k * p.step - ${bound}::float8)
    )
  )`;
}

interface CheckedSettlement {
  bound: number;
  reach: number;
  expiredBefore: number | null;
}

function checkedSettlement(options: SettlementOptions | undefined): CheckedSettlement {
  const { stalenessSeconds, reachSeconds, expiredBefore } = options ?? defaultSettlement;
  const nonNegative = z.number().finite().nonnegative();
  return {
    bound: nonNegative.parse(stalenessSeconds),
    reach: nonNegative.parse(reachSeconds),
    expiredBefore: expiredBefore === undefined ? null : seconds(expiredBefore, 'expiredBefore'),
  };
}

const pageRow = z.object({ id: z.number(), cursorAt: z.string() });
const cursorSchema = z.object({ resolvableAt: z.string().min(1), id: z.number().int() });

/**
 * A page of predictions to score: those whose prices are settled (every step has a stored price within
 * the staleness bound, prices up to resolvable_at: docs/game.md#where-we-differ-from-crunchdaos-code; never before, never against a stale price), and those past the settlement limit
 * (`expiredBefore`, scored failed), unscored unless `rescore`, optionally within [from, to), oldest
 * first. Assets are those of prediction_configs, active or not, as in scorablePredictions.
 */
export async function scoringPage(db: CommonQueryMethods, options: ScoringPageOptions): Promise<ScoringPage> {
  const limit = z.number().int().positive().parse(options.limit);
  const after = options.after ? cursorSchema.parse(options.after) : null;
  const rule = checkedSettlement(options.settlement);
  const { reach, expiredBefore } = rule;
  const reachable = sql.fragment`latest.ts + make_interval(secs => ${reach}::float8)`;
  // The first clause bounds the index range scan of the unscored predictions of each asset.
  const conditions =
    expiredBefore === null
      ? [sql.fragment`p.resolvable_at <= ${reachable}`, settled(rule, sql.fragment`latest.ts`)]
      : [
          sql.fragment`p.resolvable_at <= greatest(${reachable}, to_timestamp(${expiredBefore}::float8))`,
          sql.fragment`(p.resolvable_at < to_timestamp(${expiredBefore}::float8) OR (${settled(rule, sql.fragment`latest.ts`)}))`,
        ];
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
  settled: z.boolean(),
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
  /** Whether every step has a stored price within the staleness bound (see scoringPage). */
  settled: boolean;
}

/**
 * The predictions with these ids, bodies, current scores and settlement (by `rule`, default 60 s and
 * 30 s) included, by resolvable_at then id.
 */
export async function loadScoringBatch(
  db: CommonQueryMethods,
  ids: readonly number[],
  rule: SettlementRule = defaultSettlement,
): Promise<BatchPrediction[]> {
  const checked = z.array(z.number().int().positive()).parse(ids);
  if (checked.length === 0) return [];
  const checkedRule = checkedSettlement(rule);
  const rows = await db.any(sql.type(batchRow)`
    SELECT p.id, p.model_id AS "modelId", p.asset, p.horizon, p.step, p.status, p.distributions,
           coalesce(${settled(checkedRule, sql.fragment`(SELECT max(ts) FROM prices x WHERE x.asset = p.asset)`)}, false) AS settled,
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
