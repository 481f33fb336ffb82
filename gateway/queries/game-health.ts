// What the dashboard shows besides the report API: the newest predict cycles (read from the predictions
// they stored) and the newest prices per asset. Bodies are built by PostgreSQL as in reports.ts.
import { type CommonQueryMethods, sql } from 'slonik';
import { isoUtc } from '../times.js';

async function jsonText(db: CommonQueryMethods, query: ReturnType<typeof sql.unsafe>): Promise<string> {
  return ((await db.one(query)) as { body: string }).body;
}

/**
 * The `limit` newest cycles, newest first: per scheduled instant, the models called and the rows by
 * status, how long after the instant the first and the last answer was stored, and the most common
 * failure reasons. The newest instants come from a skip scan of predictions_scheduled_idx (sql/011),
 * one index probe per cycle, so the cost does not grow with the table.
 */
export function cyclesReport(db: CommonQueryMethods, limit: number, lateAfterSeconds: number): Promise<string> {
  return jsonText(
    db,
    sql.unsafe`
      WITH RECURSIVE instants (scheduled_at, n) AS (
        (SELECT scheduled_at, 1 FROM predictions WHERE scheduled_at IS NOT NULL ORDER BY scheduled_at DESC LIMIT 1)
        UNION ALL
        SELECT next.scheduled_at, i.n + 1
        FROM instants i
        CROSS JOIN LATERAL (
          SELECT scheduled_at FROM predictions
          WHERE scheduled_at IS NOT NULL AND scheduled_at < i.scheduled_at
          ORDER BY scheduled_at DESC LIMIT 1
        ) next
        WHERE i.n < ${limit}
      ),
      cycles AS (
        SELECT p.scheduled_at,
               count(DISTINCT p.model_id)::int AS models_called,
               count(*)::int AS predictions,
               count(*) FILTER (WHERE p.status = 'SUCCESS')::int AS success,
               count(*) FILTER (WHERE p.status = 'FAILED')::int AS failed,
               count(*) FILTER (WHERE p.status = 'TIMEOUT')::int AS timeout,
               count(*) FILTER (WHERE p.status = 'ABSENT')::int AS absent,
               extract(epoch FROM min(p.performed_at) - p.scheduled_at)::float8 AS first_answer_after_seconds,
               extract(epoch FROM max(p.performed_at) - p.scheduled_at)::float8 AS last_answer_after_seconds,
               array_agg(DISTINCT p.asset ORDER BY p.asset) AS assets
        FROM instants i
        JOIN predictions p ON p.scheduled_at = i.scheduled_at
        GROUP BY p.scheduled_at
      )
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY c.scheduled_at DESC), '') || ']' AS body
      FROM cycles c
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (
          SELECT ${isoUtc('c', 'scheduled_at')} AS scheduled_at,
                 c.first_answer_after_seconds <= ${lateAfterSeconds} AS on_time,
                 c.first_answer_after_seconds, c.last_answer_after_seconds,
                 c.models_called, c.predictions, c.success, c.failed, c.timeout, c.absent, c.assets,
                 coalesce((
                   SELECT json_agg(json_build_object('reason', f.reason, 'count', f.count) ORDER BY f.count DESC, f.reason)
                   FROM (
                     SELECT left(coalesce(p.reason, p.status), 200) AS reason, count(*)::int AS count
                     FROM predictions p
                     WHERE p.scheduled_at = c.scheduled_at AND p.status <> 'SUCCESS'
                     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5
                   ) f
                 ), '[]'::json) AS failure_reasons
        ) r
      ) doc
    `,
  );
}

/**
 * The `limit` newest one-minute prices of each asset the game predicts (active prediction configs),
 * newest first within each asset; assets in name order. Each asset is a backward scan of the prices key.
 */
export function pricesTail(db: CommonQueryMethods, limit: number): Promise<string> {
  return jsonText(
    db,
    sql.unsafe`
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY a.asset, t.ts DESC), '') || ']' AS body
      FROM (SELECT DISTINCT asset FROM prediction_configs WHERE active) a
      CROSS JOIN LATERAL (
        SELECT ts, price FROM prices WHERE prices.asset = a.asset ORDER BY ts DESC LIMIT ${limit}
      ) t
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (SELECT a.asset, ${isoUtc('t', 'ts')} AS ts, t.price) r
      ) doc
    `,
  );
}
