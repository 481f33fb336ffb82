// One leaderboard pass at one instant: windows per group and per model, one snapshot per model, a ranked
// leaderboard, all in one transaction. Re-running it for the same instant rewrites the same rows.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import type { RankingDirection } from '../game/index.js';
import {
  checkWindowOptions,
  prepareWindowTransaction,
  settleRunningTotals,
  type WindowOptions,
  windowsCte,
} from './windows.js';

export interface RefreshOptions extends WindowOptions {
  /** The scorer's direction: which end of the scores ranks first. */
  direction: RankingDirection;
}

export interface RefreshResult {
  leaderboardId: number;
  /** Unix seconds. */
  asOf: number;
  /** Models ranked (= snapshots written). */
  models: number;
  /** (model, asset, horizon, step) groups with a score in the longest window. */
  groups: number;
  /** Snapshots at this instant removed because their model no longer has any group in the windows. */
  snapshotsRemoved: number;
  /** Running-total rows the settle recomputed first. */
  settled: number;
  /** The model ranked first, if any. */
  leader: string | null;
}

const DIRECTIONS: readonly RankingDirection[] = ['higher-is-better', 'lower-is-better'];

/**
 * Ranks by anchor, then steady, then recent in the scorer's direction; a missing score ranks after every
 * number (0 is a number); remaining ties go to the smaller model id in code-point order ("C" collation,
 * as JavaScript's < for ids without characters beyond U+FFFF). Ranks are 1..N.
 */
function rankOrder(direction: RankingDirection) {
  const sign = direction === 'higher-is-better' ? sql.fragment`` : sql.fragment`-`;
  return sql.fragment`${sign}anchor DESC NULLS LAST, ${sign}steady DESC NULLS LAST, ${sign}recent DESC NULLS LAST, model_id COLLATE "C"`;
}

const counts = z.object({
  models: z.number(),
  groups: z.number(),
  snapshotsRemoved: z.number(),
  leader: z.string().nullable(),
});

/** Computes and stores the leaderboard at `asOf` (see README.md for the rules). Idempotent per instant. */
export async function refreshLeaderboard(db: CommonQueryMethods, options: RefreshOptions): Promise<RefreshResult> {
  const { asOf, windows } = checkWindowOptions(options);
  if (!DIRECTIONS.includes(options.direction)) {
    throw new RangeError(`direction must be ${DIRECTIONS.join(' or ')}, got ${String(options.direction)}`);
  }
  const cte = windowsCte({ asOf, windows });
  const asOfTs = sql.fragment`to_timestamp(${asOf}::float8)`;
  return db.transaction(async (tx) => {
    await prepareWindowTransaction(tx);
    // Also serialises refreshes: the settle's lock is held until this transaction ends.
    const settled = await settleRunningTotals(tx);
    const leaderboardId = await tx.oneFirst(sql.type(z.object({ id: z.number() }))`
      WITH created AS (
        INSERT INTO leaderboards (as_of) VALUES (${asOfTs}) ON CONFLICT (as_of) DO NOTHING RETURNING id
      )
      SELECT id FROM created UNION ALL SELECT id FROM leaderboards WHERE as_of = ${asOfTs}
      LIMIT 1
    `);
    await tx.query(sql.unsafe`DELETE FROM leaderboard_entries WHERE leaderboard_id = ${leaderboardId}`);
    const result = await tx.one(sql.type(counts)`
      WITH ${cte},
      ranked AS (
        SELECT model_id, recent, steady, anchor, row_number() OVER (ORDER BY ${rankOrder(options.direction)}) AS rank
        FROM models
      ),
      group_lists AS (
        SELECT model_id,
               jsonb_agg(
                 jsonb_build_object('asset', asset, 'horizon', horizon, 'step', step,
                                    'recent', recent, 'steady', steady, 'anchor', anchor)
                 ORDER BY asset COLLATE "C", horizon, step
               ) AS groups
        FROM groups GROUP BY model_id
      ),
      snapshots AS (
        INSERT INTO model_score_snapshots AS s (model_id, as_of, score_recent, score_steady, score_anchor, groups)
        SELECT m.model_id, ${asOfTs}, m.recent, m.steady, m.anchor, l.groups
        FROM models m JOIN group_lists l USING (model_id)
        ON CONFLICT (model_id, as_of) DO UPDATE SET
          score_recent = excluded.score_recent,
          score_steady = excluded.score_steady,
          score_anchor = excluded.score_anchor,
          groups = excluded.groups
        WHERE (s.score_recent, s.score_steady, s.score_anchor, s.groups)
          IS DISTINCT FROM (excluded.score_recent, excluded.score_steady, excluded.score_anchor, excluded.groups)
        RETURNING 1
      ),
      removed AS (
        DELETE FROM model_score_snapshots s
        WHERE s.as_of = ${asOfTs} AND NOT EXISTS (SELECT 1 FROM models m WHERE m.model_id = s.model_id)
        RETURNING 1
      ),
      entries AS (
        INSERT INTO leaderboard_entries (leaderboard_id, rank, model_id, score_recent, score_steady, score_anchor)
        SELECT ${leaderboardId}, rank, model_id, recent, steady, anchor FROM ranked
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM entries)::int AS models,
             (SELECT count(*) FROM groups)::int AS groups,
             (SELECT count(*) FROM removed)::int AS "snapshotsRemoved",
             (SELECT model_id FROM ranked WHERE rank = 1) AS leader
    `);
    return { leaderboardId, asOf, settled, ...result };
  });
}
