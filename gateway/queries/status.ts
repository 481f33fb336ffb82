// What /healthz and /metrics read: cheap, indexed queries, safe to run on every probe or scrape.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';

/** A round trip to the server; also says whether the session is read-only, as the gateway expects. */
export async function databaseReadOnly(db: CommonQueryMethods): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ read_only: z.boolean() }))`
    SELECT current_setting('transaction_read_only') = 'on' AS read_only
  `);
}

/** Seconds since the newest leaderboard was published; null before the first. */
export async function leaderboardAgeSeconds(db: CommonQueryMethods): Promise<number | null> {
  const row = await db.maybeOne(sql.type(z.object({ age: z.number() }))`
    SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM leaderboards ORDER BY as_of DESC LIMIT 1
  `);
  return row?.age ?? null;
}

/**
 * Seconds since the newest stored prediction of any status (each predict cycle that has something due
 * writes rows, ABSENT ones included). One index probe per model on predictions (model_id, performed_at)
 * rather than a scan of the table.
 */
export async function predictCycleLagSeconds(db: CommonQueryMethods): Promise<number | null> {
  return db.oneFirst(sql.type(z.object({ lag: z.number().nullable() }))`
    SELECT extract(epoch FROM now() - max(latest.performed_at))::float8 AS lag
    FROM models m
    CROSS JOIN LATERAL (
      SELECT performed_at FROM predictions p
      WHERE p.model_id = m.model_id
      ORDER BY performed_at DESC
      LIMIT 1
    ) latest
  `);
}
