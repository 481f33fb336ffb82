// Leaderboard history: which instants already have a leaderboard (a backfill recomputes them).
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';

function seconds(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a time in unix seconds (a finite number), got ${String(value)}`);
  }
  return value;
}

/** The as_of of every stored leaderboard with from <= as_of <= to (unix seconds), oldest first. */
export async function leaderboardInstants(
  db: CommonQueryMethods,
  range: { from: number; to: number },
): Promise<number[]> {
  const from = seconds(range.from, 'from');
  const to = seconds(range.to, 'to');
  const rows = await db.anyFirst(sql.type(z.object({ asOf: z.number() }))`
    SELECT extract(epoch FROM as_of)::float8 AS "asOf" FROM leaderboards
    WHERE as_of BETWEEN to_timestamp(${from}::float8) AND to_timestamp(${to}::float8)
    ORDER BY as_of
  `);
  return [...rows];
}
