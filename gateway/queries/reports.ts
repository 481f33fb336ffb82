// The report queries of docs/game.md#report-api. Each returns the response body as JSON text built by PostgreSQL
// (row_to_json per item, string_agg in the report's order): one row crosses the wire instead of
// thousands, and Node neither parses rows nor serialises them again.
import { type CommonQueryMethods, type QuerySqlToken, sql } from 'slonik';
import type { ZodTypeAny } from 'zod';
import type { TimeRange } from '../params.js';
import { isoUtc } from '../times.js';

async function jsonText(db: CommonQueryMethods, query: QuerySqlToken<ZodTypeAny>): Promise<string> {
  const row = await db.one(query);
  return (row as { body: string }).body;
}

const range = (column: string[], { start, end }: TimeRange) =>
  sql.fragment`${sql.identifier(column)} BETWEEN ${start.iso}::timestamptz AND ${end.iso}::timestamptz`;

/** Every registered model with its latest deployment, by model id. */
export function modelsReport(db: CommonQueryMethods): Promise<string> {
  return jsonText(
    db,
    sql.unsafe`
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY m.model_id), '') || ']' AS body
      FROM models m
      LEFT JOIN LATERAL (
        SELECT deployment_id FROM deployments
        WHERE deployments.model_id = m.model_id
        ORDER BY last_seen_at DESC, deployment_id DESC
        LIMIT 1
      ) d ON true
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (
          SELECT m.model_id, m.name AS model_name, m.cruncher_name, m.cruncher_id, d.deployment_id
        ) r
      ) doc
    `,
  );
}

/**
 * The newest leaderboard's identity: its id and the row version (`xmin`), which changes if a re-run
 * pass rewrites the row in place. Null when no leaderboard exists yet.
 */
export async function latestLeaderboardKey(db: CommonQueryMethods): Promise<string | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT id::text || ':' || xmin::text AS key FROM leaderboards ORDER BY as_of DESC LIMIT 1
  `);
  return row ? (row as { key: string }).key : null;
}

/** One leaderboard by rank, with its key as read in the same statement (null if it is gone). */
export async function leaderboardReport(
  db: CommonQueryMethods,
  key: string,
): Promise<{ key: string; body: string } | null> {
  const id = Number(key.split(':')[0]);
  const row = await db.maybeOne(sql.unsafe`
    SELECT l.id::text || ':' || l.xmin::text AS key,
           (
             SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY e.rank), '') || ']'
             FROM leaderboard_entries e
             JOIN models m ON m.model_id = e.model_id
             CROSS JOIN LATERAL (
               SELECT row_to_json(r) AS j FROM (
                 SELECT ${isoUtc('l', 'created_at')} AS created_at, e.model_id, e.score_recent, e.score_steady,
                        e.score_anchor, e.rank, m.name AS model_name, m.cruncher_name
               ) r
             ) doc
             WHERE e.leaderboard_id = l.id
           ) AS body
    FROM leaderboards l
    WHERE l.id = ${id}
  `);
  return row ? (row as { key: string; body: string }) : null;
}

/**
 * Overall scores per snapshot of the given models in the range, by time then model. It reads only columns
 * of the primary key's index (the scores are INCLUDEd, sql/006), so it is an index-only scan: a model's
 * snapshots sit one per heap page, and reading the heap cost a page per row.
 */
export function globalReportQuery(modelIds: string[], timeRange: TimeRange): QuerySqlToken<ZodTypeAny> {
  return sql.unsafe`
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY s.as_of, s.model_id), '') || ']' AS body
      FROM model_score_snapshots s
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (
          SELECT s.model_id, s.score_recent, s.score_steady, s.score_anchor, ${isoUtc('s', 'as_of')} AS performed_at
        ) r
      ) doc
      WHERE s.model_id = ANY(${sql.array(modelIds, 'text')}) AND ${range(['s', 'as_of'], timeRange)}
    `;
}

export function globalReport(
  db: CommonQueryMethods,
  modelIds: string[],
  timeRange: TimeRange,
): Promise<{ body: string; version: string }> {
  return withSnapshotsVersion(db, globalReportQuery(modelIds, timeRange));
}

export interface SnapshotsVersion {
  /** Bumped by every statement that writes model_score_snapshots (sql/011). */
  version: string;
  /** The newest snapshot's as_of in microseconds since the epoch; null when there is none. */
  newestAsOfUs: number | null;
}

const snapshotsVersionSql = sql.fragment`
  (SELECT version::text FROM report_versions WHERE table_name = 'model_score_snapshots')
`;

/** The snapshots' version and newest as_of: a primary-key read and the end of the as_of index. */
export async function snapshotsVersion(db: CommonQueryMethods): Promise<SnapshotsVersion> {
  const row = (await db.one(sql.unsafe`
    SELECT ${snapshotsVersionSql} AS version,
           (SELECT (extract(epoch FROM max(as_of)) * 1000000)::bigint::text FROM model_score_snapshots) AS newest
  `)) as { version: string; newest: string | null };
  return { version: row.version, newestAsOfUs: row.newest === null ? null : Number(row.newest) };
}

/** A report's body and, read by the same statement (so from the same snapshot), the snapshots' version. */
async function withSnapshotsVersion(
  db: CommonQueryMethods,
  report: QuerySqlToken<ZodTypeAny>,
): Promise<{ body: string; version: string }> {
  return (await db.one(sql.unsafe`
    SELECT report.body, ${snapshotsVersionSql} AS version FROM (${report}) report
  `)) as { body: string; version: string };
}

/**
 * Scores per snapshot and (asset, horizon, step) group, by time, model, then the group order of the
 * snapshot. Values are taken from the snapshot's JSON as they are (no casts), so an odd stored value
 * is reported rather than failing the request.
 */
export function paramsReport(
  db: CommonQueryMethods,
  modelIds: string[],
  timeRange: TimeRange,
): Promise<{ body: string; version: string }> {
  return withSnapshotsVersion(
    db,
    sql.unsafe`
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY s.as_of, s.model_id, g.n), '') || ']' AS body
      FROM model_score_snapshots s
      CROSS JOIN LATERAL jsonb_array_elements(s.groups) WITH ORDINALITY AS g (value, n)
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (
          SELECT s.model_id,
                 concat_ws('-', g.value ->> 'asset', g.value ->> 'horizon', g.value ->> 'step') AS param,
                 g.value -> 'asset' AS asset, g.value -> 'horizon' AS horizon, g.value -> 'step' AS step,
                 g.value -> 'recent' AS score_recent, g.value -> 'steady' AS score_steady,
                 g.value -> 'anchor' AS score_anchor, ${isoUtc('s', 'as_of')} AS performed_at
        ) r
      ) doc
      WHERE s.model_id = ANY(${sql.array(modelIds, 'text')}) AND ${range(['s', 'as_of'], timeRange)}
    `,
  );
}

/**
 * The scored predictions of one model made in the range, by time. `score_failed` (upstream's field) and
 * `score_success` (what the CrunchDAO UI's alert reads) are both given.
 */
export function predictionsReport(db: CommonQueryMethods, modelId: string, timeRange: TimeRange): Promise<string> {
  return jsonText(
    db,
    sql.unsafe`
      SELECT '[' || coalesce(string_agg(doc.j::text, ',' ORDER BY p.performed_at, p.id), '') || ']' AS body
      FROM predictions p
      JOIN scores s ON s.prediction_id = p.id
      CROSS JOIN LATERAL (
        SELECT row_to_json(r) AS j FROM (
          SELECT p.model_id, concat_ws('-', p.asset, p.horizon, p.step) AS param, p.asset, p.horizon, p.step,
                 s.value AS score_value, NOT s.success AS score_failed, s.success AS score_success,
                 s.failed_reason AS score_failed_reason, ${isoUtc('s', 'scored_at')} AS scored_at,
                 ${isoUtc('p', 'performed_at')} AS performed_at
        ) r
      ) doc
      WHERE p.model_id = ${modelId} AND ${range(['p', 'performed_at'], timeRange)}
    `,
  );
}
