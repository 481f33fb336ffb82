import { type CommonQueryMethods, sql } from 'slonik';

export interface PredictionGroupConfig {
  assets: readonly string[];
  horizon: number;
  step: number;
  interval: number;
}

/**
 * Makes exactly these groups the active prediction configs (in one transaction): listed
 * (asset, horizon, step) rows are activated or inserted in the given asset order, every other row is
 * deactivated, not deleted, so its predictions keep their meaning. Returns the number of active configs.
 */
export async function activatePredictionGroups(
  db: CommonQueryMethods & { transaction: <T>(work: (tx: CommonQueryMethods) => Promise<T>) => Promise<T> },
  groups: readonly PredictionGroupConfig[],
): Promise<number> {
  const rows = groups.flatMap((group) =>
    group.assets.map((asset) => [asset, group.horizon, group.step, group.interval] as const),
  );
  return db.transaction(async (tx) => {
    await tx.query(sql.unsafe`UPDATE prediction_configs SET active = false WHERE active`);
    if (rows.length === 0) return 0;
    const result = await tx.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds, active)
      SELECT asset, horizon, step, interval_seconds, true
      FROM ${sql.unnest(
        rows.map((row) => [...row]),
        ['text', 'int4', 'int4', 'int4'],
      )} AS input (asset, horizon, step, interval_seconds)
      ON CONFLICT (asset, horizon, step) DO UPDATE SET interval_seconds = excluded.interval_seconds, active = true
    `);
    return result.rowCount;
  });
}
