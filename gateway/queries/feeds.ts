// What the gateway reads about the price feeds: each asset's newest stored point and the ingestion's
// own record of its runs (price_feeds), for /healthz and /metrics; the stored prices per source, for
// /reports/feeds and its tail.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { isoUtc } from '../times.js';

const feedRow = z.object({
  asset: z.string(),
  newest_ts: z.string().nullable(),
  newest_source: z.string().nullable(),
  /** Seconds since the newest point's minute closed. */
  age_seconds: z.number().nullable(),
  last_success_age_seconds: z.number().nullable(),
  last_error: z.string().nullable(),
  last_error_is_latest: z.boolean(),
  divergence: z.number().nullable(),
  divergence_sources: z.string().nullable(),
  points_held: z.number(),
  corrections_pending: z.number(),
});
export type FeedRow = z.infer<typeof feedRow>;

/**
 * One row per asset that the active prediction configs use or the ingestion has seen. One index probe
 * per asset for the newest point; the holds and corrections counts read small tables.
 */
export async function feedRows(db: CommonQueryMethods): Promise<FeedRow[]> {
  const rows = await db.any(sql.type(feedRow)`
    WITH assets AS (
      SELECT asset FROM prediction_configs WHERE active
      UNION
      SELECT asset FROM price_feeds
    )
    SELECT a.asset,
           ${isoUtc('newest', 'ts')} AS newest_ts,
           newest.source AS newest_source,
           extract(epoch FROM now() - (newest.ts + interval '1 minute'))::float8 AS age_seconds,
           extract(epoch FROM now() - f.last_success_at)::float8 AS last_success_age_seconds,
           f.last_error,
           coalesce(f.last_error_at > coalesce(f.last_success_at, '-infinity'), false) AS last_error_is_latest,
           f.divergence,
           f.divergence_sources,
           (SELECT count(*) FROM price_holds h WHERE h.asset = a.asset AND h.state = 'held')::int AS points_held,
           (SELECT count(*) FROM price_corrections c WHERE c.asset = a.asset AND c.applied_at IS NULL)::int
             AS corrections_pending
    FROM assets a
    LEFT JOIN LATERAL (
      SELECT ts, source FROM prices WHERE prices.asset = a.asset ORDER BY ts DESC LIMIT 1
    ) newest ON true
    LEFT JOIN price_feeds f ON f.asset = a.asset
    ORDER BY a.asset
  `);
  return [...rows];
}

export interface FeedBounds {
  /** An asset whose newest point closed longer ago than this is not ok. */
  maxLagSeconds: number;
  /** A divergence between the two sources past this is a warning. */
  maxDivergence: number;
}

export type FeedState = 'ok' | 'no data' | 'frozen' | 'failing' | 'lagging';

export interface FeedHealth {
  asset: string;
  status: FeedState;
  newest_ts: string | null;
  newest_source: string | null;
  age_seconds: number | null;
  divergence: number | null;
  divergence_sources: string | null;
  diverging: boolean;
  points_held: number;
  corrections_pending: number;
  error: string | null;
}

/**
 * An asset's feed: ok while its newest point is recent; past the bound, `failing` when the last run
 * failed, `frozen` when the source answers but brings nothing new, `lagging` when the ingestion itself
 * has not run lately (or no run was recorded).
 */
export function feedHealth(row: FeedRow, bounds: FeedBounds): FeedHealth {
  let status: FeedState;
  if (row.newest_ts === null) status = row.last_error_is_latest ? 'failing' : 'no data';
  else if ((row.age_seconds ?? 0) <= bounds.maxLagSeconds) status = 'ok';
  else if (row.last_error_is_latest) status = 'failing';
  else if (row.last_success_age_seconds !== null && row.last_success_age_seconds <= bounds.maxLagSeconds) {
    status = 'frozen';
  } else status = 'lagging';
  const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  return {
    asset: row.asset,
    status,
    newest_ts: row.newest_ts,
    newest_source: row.newest_source,
    age_seconds: round(row.age_seconds),
    divergence: row.divergence,
    divergence_sources: row.divergence_sources,
    diverging: row.divergence !== null && row.divergence > bounds.maxDivergence,
    points_held: row.points_held,
    corrections_pending: row.corrections_pending,
    error: row.last_error_is_latest ? row.last_error : null,
  };
}

const FEED_KIND = 'candle';
const FEED_GRANULARITY = '1m';

const reportRow = z.object({
  source: z.string(),
  subject: z.string(),
  kind: z.string(),
  granularity: z.string(),
  record_count: z.number(),
  oldest_ts: z.string(),
  newest_ts: z.string(),
  watermark_ts: z.string().nullable(),
  watermark_updated_at: z.string().nullable(),
});

/** Each (source, asset) of the stored prices: counts, oldest and newest points, the asset's watermark. */
export async function feedsReport(db: CommonQueryMethods) {
  const rows = await db.any(sql.type(reportRow)`
    SELECT s.source, s.asset AS subject, ${FEED_KIND} AS kind, ${FEED_GRANULARITY} AS granularity,
           s.record_count, ${isoUtc('s', 'oldest')} AS oldest_ts, ${isoUtc('s', 'newest')} AS newest_ts,
           ${isoUtc('f', 'watermark_ts')} AS watermark_ts, ${isoUtc('f', 'watermark_updated_at')} AS watermark_updated_at
    FROM (
      SELECT source, asset, count(*)::int AS record_count, min(ts) AS oldest, max(ts) AS newest
      FROM prices GROUP BY source, asset
    ) s
    LEFT JOIN price_feeds f ON f.asset = s.asset
    ORDER BY s.asset, s.source
  `);
  return [...rows];
}

export interface TailQuery {
  source?: string;
  subject?: string;
  kind?: string;
  granularity?: string;
  limit: number;
}

const tailRow = z.object({
  source: z.string(),
  subject: z.string(),
  ts_event: z.string(),
  ts_ingested: z.string(),
  close: z.number(),
});

/** The newest stored points, newest first, optionally of one source and asset. */
export async function feedTail(db: CommonQueryMethods, query: TailQuery) {
  // Prices are one kind at one granularity: asking for another is an empty answer, not an error.
  if ((query.kind && query.kind !== FEED_KIND) || (query.granularity && query.granularity !== FEED_GRANULARITY)) {
    return [];
  }
  const conditions = [sql.fragment`true`];
  if (query.source) conditions.push(sql.fragment`source = ${query.source}`);
  if (query.subject) conditions.push(sql.fragment`asset = ${query.subject}`);
  const rows = await db.any(sql.type(tailRow)`
    SELECT source, asset AS subject, ${isoUtc('ts')} AS ts_event, ${isoUtc('ingested_at')} AS ts_ingested,
           price AS close
    FROM prices
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY ts DESC, asset
    LIMIT ${query.limit}
  `);
  return rows.map((row) => ({
    source: row.source,
    subject: row.subject,
    kind: FEED_KIND,
    granularity: FEED_GRANULARITY,
    ts_event: row.ts_event,
    ts_ingested: row.ts_ingested,
    values: { close: row.close },
    meta: {},
  }));
}
