// The prediction insert as it was before this benchmark (one jsonb_to_recordset document into a jsonb
// column, default compression), kept here as the storage baseline measured in the same run.
import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import type { DatabasePool } from '../../lib/db/index.js';
import type { ModelInfo } from '../../lib/model-runner/index.js';
import { parsePythonJson } from '../../lib/model-runner/python-json.js';
import { benchConfig } from './database.js';

/** A copy of predictions' shape, keys and indexes with the previous column type and compression. */
export async function createPreviousTable(db: DatabasePool): Promise<void> {
  await db.query(sql.unsafe`CREATE TABLE predictions_previous (LIKE predictions INCLUDING ALL)`);
  await db.query(sql.unsafe`
    ALTER TABLE predictions_previous
      ALTER COLUMN distributions TYPE jsonb,
      ALTER COLUMN distributions SET COMPRESSION pglz
  `);
}

/** Times the previous insert statement on the rows a predict round builds (values serialised in it). */
export async function timePreviousInsert(
  db: DatabasePool,
  models: readonly ModelInfo[],
  answerText: string,
  slotSec: number,
): Promise<{ ms: number; bytes: number }> {
  const performedAt = Date.now() / 1000;
  const distributions = models.map(() => parsePythonJson(answerText));
  const started = performance.now();
  const records = models.map((model, i) => ({
    model_id: model.modelId,
    deployment_id: model.deploymentId,
    asset: benchConfig.asset,
    horizon: benchConfig.horizon,
    step: benchConfig.step,
    status: 'SUCCESS',
    reason: null,
    exec_time_us: 1_000,
    body: { value: distributions[i] },
    performed_at: performedAt,
    scheduled_at: slotSec,
  }));
  const result = await db.query(sql.unsafe`
    INSERT INTO predictions_previous (model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
                                      distributions, performed_at, resolvable_at, scheduled_at)
    SELECT model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
           body -> 'value', to_timestamp(performed_at), to_timestamp(performed_at + horizon),
           to_timestamp(scheduled_at)
    FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS input (
      model_id text, deployment_id text, asset text, horizon integer, step integer, status text, reason text,
      exec_time_us bigint, body jsonb, performed_at float8, scheduled_at float8
    )
    ON CONFLICT DO NOTHING
  `);
  const ms = performance.now() - started;
  if (result.rowCount !== models.length) throw new Error(`the previous insert stored ${result.rowCount} rows`);
  // The JSON text the values stand for (what jsonb gives back is re-spaced, so count the compact form).
  const bytes = Buffer.byteLength(JSON.stringify(distributions[0])) * models.length;
  await db.query(sql.unsafe`TRUNCATE predictions_previous`);
  return { ms, bytes };
}
