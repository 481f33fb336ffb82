import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { lastPerKey, nonEmpty, parseRows, unixSeconds } from './validate.js';

/** What a deployment has been fed: whether it had its full history, and the newest price time per asset. */
export interface FeedState {
  fed: boolean;
  marks: Map<string, number>;
}

const feedStateRow = z.object({
  deploymentId: z.string(),
  fed: z.boolean(),
  asset: z.string().nullable(),
  fedUntil: z.number().nullable(),
});

/**
 * The feed state of these deployments, shared by every model-calls worker. A deployment the database does not
 * know yet is absent from the map: it has been fed nothing.
 */
export async function loadFeedState(
  db: CommonQueryMethods,
  deploymentIds: readonly string[],
): Promise<Map<string, FeedState>> {
  const states = new Map<string, FeedState>();
  if (deploymentIds.length === 0) return states;
  const rows = await db.any(sql.type(feedStateRow)`
    SELECT d.deployment_id AS "deploymentId", d.full_history_sent_at IS NOT NULL AS fed, m.asset,
           extract(epoch FROM m.fed_until)::float8 AS "fedUntil"
    FROM deployments d LEFT JOIN feed_marks m USING (deployment_id)
    WHERE d.deployment_id = ANY(${sql.array(deploymentIds, 'text')})
  `);
  for (const row of rows) {
    const state = states.get(row.deploymentId) ?? { fed: row.fed, marks: new Map<string, number>() };
    if (row.asset !== null && row.fedUntil !== null) state.marks.set(row.asset, row.fedUntil);
    states.set(row.deploymentId, state);
  }
  return states;
}

const feedMarkInput = z.object({ deploymentId: nonEmpty, asset: nonEmpty, fedUntil: unixSeconds });
export type FeedMarkInput = z.input<typeof feedMarkInput>;

/** Records ticks the deployments accepted. A mark only moves forward: a slower worker cannot rewind it. */
export async function recordFeedMarks(db: CommonQueryMethods, marks: readonly FeedMarkInput[]): Promise<number> {
  const rows = lastPerKey(
    parseRows('recordFeedMarks', feedMarkInput, marks),
    (row) => `${row.deploymentId}/${row.asset}`,
  );
  if (rows.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    INSERT INTO feed_marks AS m (deployment_id, asset, fed_until)
    SELECT deployment_id, asset, to_timestamp(fed_until)
    FROM ${sql.unnest(
      rows.map((row) => [row.deploymentId, row.asset, row.fedUntil]),
      ['text', 'text', 'float8'],
    )} AS input (deployment_id, asset, fed_until)
    ON CONFLICT (deployment_id, asset) DO UPDATE SET fed_until = greatest(m.fed_until, excluded.fed_until)
  `);
  return result.rowCount;
}

/**
 * Forgets what these deployments were fed (their process was set up again and may have lost its memory): the
 * next tick sends them their full history, and they are not asked to predict before it. Returns how many
 * deployments had their history.
 */
export async function forgetFeed(db: CommonQueryMethods, deploymentIds: readonly string[]): Promise<number> {
  if (deploymentIds.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    WITH forgotten AS (
      DELETE FROM feed_marks WHERE deployment_id = ANY(${sql.array(deploymentIds, 'text')})
    )
    UPDATE deployments SET full_history_sent_at = NULL
    WHERE deployment_id = ANY(${sql.array(deploymentIds, 'text')}) AND full_history_sent_at IS NOT NULL
  `);
  // The deployments that had their history and must now get it again.
  return result.rowCount;
}
