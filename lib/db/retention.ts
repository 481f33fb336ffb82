import { type CommonQueryMethods, type QuerySqlToken, sql } from 'slonik';
import { seconds } from './validate.js';

const DAY = 86_400;

/** How long each table keeps its rows, in days. sql/README.md explains each choice. */
export interface RetentionPolicy {
  /** Predictions (and their scores) once scored this long ago; unscored ones once their prices are gone. */
  predictionsDays: number;
  pricesDays: number;
  snapshotsDays: number;
  /** The latest leaderboard is always kept, whatever its age. */
  leaderboardsDays: number;
  payloadsDays: number;
  /** Deployments not seen for this long (models themselves are kept). */
  deploymentsDays: number;
}

export const defaultRetention: RetentionPolicy = {
  predictionsDays: 30,
  pricesDays: 35,
  snapshotsDays: 10,
  leaderboardsDays: 10,
  payloadsDays: 7,
  deploymentsDays: 30,
};

export type RetentionResult = Record<
  'predictions' | 'prices' | 'modelScoreSnapshots' | 'leaderboards' | 'payloads' | 'deployments',
  number
>;

export interface RetentionOptions {
  /** The instant ages are measured from (unix seconds; default now). */
  now?: number;
  policy?: Partial<RetentionPolicy>;
  /** Rows per DELETE, so a first run on a big table holds no long lock or huge transaction (default 10,000). */
  batchSize?: number;
}

/**
 * Deletes what every table no longer needs, in bounded batches. Meant for a periodic workflow activity;
 * safe to run at any time and concurrently with writers. Returns rows deleted per table.
 */
export async function applyRetention(db: CommonQueryMethods, options: RetentionOptions = {}): Promise<RetentionResult> {
  const policy = { ...defaultRetention, ...options.policy };
  for (const [key, days] of Object.entries(policy)) {
    if (!(typeof days === 'number' && days > 0))
      throw new RangeError(`retention ${key} must be a positive number of days`);
  }
  const now = options.now === undefined ? Date.now() / 1000 : seconds(options.now, 'now');
  const batch = options.batchSize ?? 10_000;
  const cutoff = (days: number) => sql.fragment`to_timestamp(${now - days * DAY})`;

  const deleteInBatches = async (statement: QuerySqlToken): Promise<number> => {
    let total = 0;
    for (;;) {
      const { rowCount } = await db.query(statement);
      total += rowCount;
      if (rowCount < batch) return total;
    }
  };

  const predictions = await deleteInBatches(sql.unsafe`
    DELETE FROM predictions WHERE id IN (
      SELECT id FROM predictions
      WHERE (resolvable_at < ${cutoff(policy.predictionsDays)} AND scored_at < ${cutoff(policy.predictionsDays)})
         OR (resolvable_at < ${cutoff(policy.pricesDays)} AND scored_at IS NULL)
      LIMIT ${batch}
    )
  `);
  const prices =
    (await deleteInBatches(sql.unsafe`
      DELETE FROM prices WHERE (asset, ts) IN (
        SELECT asset, ts FROM prices WHERE ts < ${cutoff(policy.pricesDays)} LIMIT ${batch}
      )
    `)) +
    // What the ingestion noted about prices (held points, corrections) goes with them.
    (await deleteInBatches(sql.unsafe`
      DELETE FROM price_holds WHERE (asset, ts, source) IN (
        SELECT asset, ts, source FROM price_holds WHERE ts < ${cutoff(policy.pricesDays)} LIMIT ${batch}
      )
    `)) +
    (await deleteInBatches(sql.unsafe`
      DELETE FROM price_corrections WHERE (asset, ts, source, corrected_price) IN (
        SELECT asset, ts, source, corrected_price FROM price_corrections
        WHERE ts < ${cutoff(policy.pricesDays)} LIMIT ${batch}
      )
    `));
  const modelScoreSnapshots = await deleteInBatches(sql.unsafe`
    DELETE FROM model_score_snapshots WHERE (model_id, as_of) IN (
      SELECT model_id, as_of FROM model_score_snapshots WHERE as_of < ${cutoff(policy.snapshotsDays)} LIMIT ${batch}
    )
  `);
  const leaderboards = await deleteInBatches(sql.unsafe`
    DELETE FROM leaderboards WHERE id IN (
      SELECT id FROM leaderboards
      WHERE created_at < ${cutoff(policy.leaderboardsDays)}
        AND id <> (SELECT id FROM leaderboards ORDER BY as_of DESC LIMIT 1)
      LIMIT ${batch}
    )
  `);
  const payloads = await deleteInBatches(sql.unsafe`
    DELETE FROM payloads WHERE key IN (
      SELECT key FROM payloads WHERE created_at < ${cutoff(policy.payloadsDays)} LIMIT ${batch}
    )
  `);
  const deployments = await deleteInBatches(sql.unsafe`
    DELETE FROM deployments WHERE deployment_id IN (
      SELECT deployment_id FROM deployments WHERE last_seen_at < ${cutoff(policy.deploymentsDays)} LIMIT ${batch}
    )
  `);
  return { predictions, prices, modelScoreSnapshots, leaderboards, payloads, deployments };
}
