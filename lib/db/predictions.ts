import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { nonEmpty, parseRows, unixSeconds } from './validate.js';

export const predictionStatuses = ['SUCCESS', 'FAILED', 'TIMEOUT', 'ABSENT'] as const;
export type PredictionStatus = (typeof predictionStatuses)[number];

const predictionConfig = z.object({
  id: z.number(),
  asset: z.string(),
  /** Seconds. */
  horizon: z.number(),
  step: z.number(),
  /** Seconds between two predictions of the same (asset, horizon, step). */
  interval: z.number(),
});
export type PredictionConfig = z.infer<typeof predictionConfig>;

/** The active prediction configs, in a stable order (the round-robin order of assets within a group). */
export async function activePredictionConfigs(db: CommonQueryMethods): Promise<PredictionConfig[]> {
  const rows = await db.any(sql.type(predictionConfig)`
    SELECT id, asset, horizon, step, interval_seconds AS interval
    FROM prediction_configs WHERE active ORDER BY id
  `);
  return [...rows];
}

const json: z.ZodType<unknown> = z.unknown();

const predictionInput = z
  .object({
    modelId: nonEmpty,
    deploymentId: z.string().nullish(),
    asset: nonEmpty,
    horizon: z.number().int().positive(),
    step: z.number().int().positive(),
    status: z.enum(predictionStatuses),
    reason: z.string().nullish(),
    execTimeUs: z.number().int().nonnegative().nullish(),
    /** What the model returned; only a SUCCESS may carry it. */
    distributions: json.optional(),
    /** Unix seconds, taken before the call; resolvable_at = performedAt + horizon. */
    performedAt: unixSeconds,
    /** Unix seconds: the predict cycle's scheduled time. */
    scheduledAt: unixSeconds.nullish(),
  })
  .refine((row) => row.status === 'SUCCESS' || row.distributions === undefined || row.distributions === null, {
    message: 'only a SUCCESS prediction may carry distributions',
    path: ['distributions'],
  });
export type PredictionInput = z.input<typeof predictionInput>;

/**
 * Stores a batch of predictions in one statement (jsonb_to_recordset: one parameter however many rows).
 * A row whose (model, asset, horizon, step, performed_at) or (model, asset, horizon, step, scheduled_at)
 * is already stored is skipped, so a retried activity never duplicates. Returns how many were new.
 */
export async function insertPredictions(
  db: CommonQueryMethods,
  predictions: readonly PredictionInput[],
): Promise<number> {
  const rows = parseRows('insertPredictions', predictionInput, predictions);
  if (rows.length === 0) return 0;
  const records = rows.map((row) => ({
    model_id: row.modelId,
    deployment_id: row.deploymentId ?? null,
    asset: row.asset,
    horizon: row.horizon,
    step: row.step,
    status: row.status,
    reason: row.reason ?? null,
    exec_time_us: row.execTimeUs ?? null,
    // Wrapped so a model that returned JSON null stays distinguishable from "no body" and survives
    // jsonb_to_recordset, which turns a bare JSON null into SQL NULL.
    body: row.status === 'SUCCESS' && row.distributions !== undefined ? { value: row.distributions } : null,
    performed_at: row.performedAt,
    scheduled_at: row.scheduledAt ?? null,
  }));
  // Serialised here, not by sql.jsonb: the bodies are arbitrary JSON a model returned.
  const result = await db.query(sql.unsafe`
    INSERT INTO predictions (model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
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
  return result.rowCount;
}
