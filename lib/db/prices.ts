import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { nonEmpty, parseRows, seconds, unixSeconds } from './validate.js';

const priceInput = z.object({
  asset: nonEmpty,
  /** Unix seconds. */
  ts: unixSeconds,
  price: z.number().finite().positive(),
  /** Which source answered it (default: the call's source). */
  source: nonEmpty.optional(),
});
export type PriceRow = z.input<typeof priceInput>;

const pricePoint = z.object({ ts: z.number(), price: z.number() });
export type StoredPrice = z.infer<typeof pricePoint>;

/**
 * Stores prices idempotently in one statement: an (asset, ts) already stored is left as it is (the first
 * value wins; a different later value is a correction, see recordPriceCorrections), so re-fetching an
 * overlapping range is harmless. Every row records its source: its own, else `source`. Returns how many
 * points were new.
 */
export async function insertPrices(
  db: CommonQueryMethods,
  prices: readonly PriceRow[],
  source: string,
): Promise<number> {
  const rows = parseRows('insertPrices', priceInput, prices);
  const fallback = nonEmpty.parse(source);
  if (rows.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    INSERT INTO prices (asset, ts, price, source)
    SELECT asset, to_timestamp(ts), price, source
    FROM ${sql.unnest(
      rows.map((row) => [row.asset, row.ts, row.price, row.source ?? fallback]),
      ['text', 'float8', 'float8', 'text'],
    )} AS input (asset, ts, price, source)
    ON CONFLICT (asset, ts) DO NOTHING
  `);
  return result.rowCount;
}

/** The time (unix seconds) of the newest stored price of an asset, or null when there is none. */
export async function latestPriceTs(db: CommonQueryMethods, asset: string): Promise<number | null> {
  return db.oneFirst(sql.type(z.object({ ts: z.number().nullable() }))`
    SELECT extract(epoch FROM max(ts))::float8 AS ts FROM prices WHERE asset = ${asset}
  `);
}

/** An asset's stored prices with from <= ts <= to (unix seconds), oldest first. */
export async function pricesBetween(
  db: CommonQueryMethods,
  asset: string,
  from: number,
  to: number,
): Promise<StoredPrice[]> {
  const rows = await db.any(sql.type(pricePoint)`
    SELECT extract(epoch FROM ts)::float8 AS ts, price
    FROM prices
    WHERE asset = ${asset} AND ts BETWEEN to_timestamp(${seconds(from, 'from')}) AND to_timestamp(${seconds(to, 'to')})
    ORDER BY ts
  `);
  return [...rows];
}

export interface PriceHold {
  asset: string;
  /** Unix seconds. */
  ts: number;
  source: string;
  price: number;
  state: 'held' | 'rejected';
  reason: string;
}

/**
 * Records points the plausibility check did not store (an existing row of the same asset, minute and
 * source takes the new state). Returns the rows that are new or changed state, for the log.
 */
export async function recordPriceHolds(db: CommonQueryMethods, holds: readonly PriceHold[]): Promise<PriceHold[]> {
  if (holds.length === 0) return [];
  const rows = await db.any(sql.type(z.object({ ts: z.number(), source: z.string() }))`
    INSERT INTO price_holds AS h (asset, ts, source, price, state, reason)
    SELECT asset, to_timestamp(ts), source, price, state, reason
    FROM ${sql.unnest(
      holds.map((hold) => [hold.asset, seconds(hold.ts, 'ts'), hold.source, hold.price, hold.state, hold.reason]),
      ['text', 'float8', 'text', 'float8', 'text', 'text'],
    )} AS input (asset, ts, source, price, state, reason)
    ON CONFLICT (asset, ts, source) DO UPDATE
      SET price = excluded.price, state = excluded.state, reason = excluded.reason, seen_at = now()
      WHERE (h.state, h.price) IS DISTINCT FROM (excluded.state, excluded.price)
    RETURNING extract(epoch FROM ts)::float8 AS ts, source
  `);
  const changed = new Set(rows.map((row) => `${row.ts}|${row.source}`));
  return holds.filter((hold) => changed.has(`${hold.ts}|${hold.source}`));
}

/** Forgets the holds of minutes now stored (confirmed), whatever source held them. */
export async function releasePriceHolds(
  db: CommonQueryMethods,
  asset: string,
  times: readonly number[],
): Promise<void> {
  if (times.length === 0) return;
  await db.query(sql.unsafe`
    DELETE FROM price_holds
    WHERE asset = ${asset} AND ts = ANY(SELECT to_timestamp(t) FROM unnest(${sql.array(times, 'float8')}::float8[]) AS t)
  `);
}

export interface PriceCorrection {
  asset: string;
  /** Unix seconds. */
  ts: number;
  source: string;
  storedPrice: number;
  correctedPrice: number;
}

/** Records later values of stored minutes; returns those not seen before (the log and /metrics count them). */
export async function recordPriceCorrections(
  db: CommonQueryMethods,
  corrections: readonly PriceCorrection[],
): Promise<PriceCorrection[]> {
  if (corrections.length === 0) return [];
  const rows = await db.any(sql.type(z.object({ ts: z.number(), correctedPrice: z.number() }))`
    INSERT INTO price_corrections (asset, ts, source, stored_price, corrected_price)
    SELECT asset, to_timestamp(ts), source, stored_price, corrected_price
    FROM ${sql.unnest(
      corrections.map((c) => [c.asset, seconds(c.ts, 'ts'), c.source, c.storedPrice, c.correctedPrice]),
      ['text', 'float8', 'text', 'float8', 'float8'],
    )} AS input (asset, ts, source, stored_price, corrected_price)
    ON CONFLICT DO NOTHING
    RETURNING extract(epoch FROM ts)::float8 AS ts, corrected_price AS "correctedPrice"
  `);
  const fresh = new Set(rows.map((row) => `${row.ts}|${row.correctedPrice}`));
  return corrections.filter((c) => fresh.has(`${c.ts}|${c.correctedPrice}`));
}

/**
 * Applies the pending corrections of minutes in [from, to] (unix seconds): the stored price becomes the
 * newest correction's value and its source that correction's source. Returns the minutes changed, per
 * asset, so the caller can rescore what they touch. Only an operator's backfill calls this.
 */
export async function applyPriceCorrections(
  db: CommonQueryMethods,
  from: number,
  to: number,
): Promise<Array<{ asset: string; ts: number }>> {
  const rows = await db.any(sql.type(z.object({ asset: z.string(), ts: z.number() }))`
    WITH pending AS (
      SELECT DISTINCT ON (asset, ts) asset, ts, source, corrected_price
      FROM price_corrections
      WHERE applied_at IS NULL
        AND ts BETWEEN to_timestamp(${seconds(from, 'from')}) AND to_timestamp(${seconds(to, 'to')})
      ORDER BY asset, ts, seen_at DESC
    ), applied AS (
      UPDATE price_corrections c SET applied_at = now()
      FROM pending WHERE c.asset = pending.asset AND c.ts = pending.ts AND c.applied_at IS NULL
    )
    UPDATE prices p SET price = pending.corrected_price, source = pending.source, ingested_at = now()
    FROM pending WHERE p.asset = pending.asset AND p.ts = pending.ts
    RETURNING p.asset, extract(epoch FROM p.ts)::float8 AS ts
  `);
  return [...rows];
}

export interface FeedRun {
  asset: string;
  /** The source answered (true) or every source failed (error says why). */
  ok: boolean;
  error?: string;
  divergence?: { value: number; sources: string } | null;
}

/**
 * Records one ingestion run of an asset in price_feeds: the watermark (newest stored point) and when
 * it last moved, the last success or failure, and the divergence measured between two sources.
 */
export async function recordFeedRun(db: CommonQueryMethods, run: FeedRun): Promise<void> {
  const error = run.ok ? null : (run.error ?? 'failed').slice(0, 500);
  const divergence = run.divergence ?? null;
  await db.query(sql.unsafe`
    INSERT INTO price_feeds AS f (asset, watermark_ts, watermark_updated_at, last_run_at, last_success_at,
                                 last_error, last_error_at, divergence, divergence_sources, divergence_at)
    SELECT ${run.asset}, newest.ts, now(), now(), CASE WHEN ${run.ok} THEN now() END,
           ${error}, CASE WHEN ${run.ok} THEN NULL ELSE now() END,
           ${divergence?.value ?? null}::float8, ${divergence?.sources ?? null}, CASE WHEN ${divergence !== null} THEN now() END
    FROM (SELECT max(ts) AS ts FROM prices WHERE asset = ${run.asset}) newest
    ON CONFLICT (asset) DO UPDATE SET
      watermark_ts = excluded.watermark_ts,
      watermark_updated_at = CASE WHEN excluded.watermark_ts IS DISTINCT FROM f.watermark_ts
                                  THEN now() ELSE f.watermark_updated_at END,
      last_run_at = now(),
      last_success_at = coalesce(excluded.last_success_at, f.last_success_at),
      last_error = CASE WHEN ${run.ok} THEN NULL ELSE excluded.last_error END,
      last_error_at = CASE WHEN ${run.ok} THEN f.last_error_at ELSE now() END,
      divergence = CASE WHEN ${divergence !== null} THEN excluded.divergence ELSE f.divergence END,
      divergence_sources = CASE WHEN ${divergence !== null} THEN excluded.divergence_sources ELSE f.divergence_sources END,
      divergence_at = CASE WHEN ${divergence !== null} THEN now() ELSE f.divergence_at END
  `);
}

/** The longest horizon of the prediction configs (seconds), 0 when there is none. */
export async function longestHorizon(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ horizon: z.number() }))`
    SELECT coalesce(max(horizon), 0)::int AS horizon FROM prediction_configs
  `);
}
