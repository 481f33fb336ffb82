import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { nonEmpty, parseRows, seconds, unixSeconds } from './validate.js';

const priceInput = z.object({
  asset: nonEmpty,
  /** Unix seconds. */
  ts: unixSeconds,
  price: z.number().finite().positive(),
});
export type PriceRow = z.input<typeof priceInput>;

const pricePoint = z.object({ ts: z.number(), price: z.number() });
export type StoredPrice = z.infer<typeof pricePoint>;

/**
 * Stores prices idempotently in one statement: an (asset, ts) already stored is left as it is (the first
 * value wins), so re-fetching an overlapping range is harmless. Returns how many points were new.
 */
export async function insertPrices(db: CommonQueryMethods, prices: readonly PriceRow[]): Promise<number> {
  const rows = parseRows('insertPrices', priceInput, prices);
  if (rows.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    INSERT INTO prices (asset, ts, price)
    SELECT asset, to_timestamp(ts), price
    FROM ${sql.unnest(
      rows.map((row) => [row.asset, row.ts, row.price]),
      ['text', 'float8', 'float8'],
    )} AS input (asset, ts, price)
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
