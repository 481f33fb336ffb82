import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { z } from 'zod';
import { type DatabasePool, insertPredictions, type PredictionInput } from '../../lib/db/index.js';
import type { ModelInfo } from '../../lib/model-runner/index.js';
import { parsePythonJson } from '../../lib/model-runner/python-json.js';
import { benchConfig } from './database.js';

/** Bytes of prediction JSON stored for one slot, as the column holds it. */
export async function storedBodyBytes(db: DatabasePool, slotSec: number): Promise<number> {
  return db.oneFirst(sql.type(z.object({ bytes: z.number() }))`
    SELECT coalesce(sum(octet_length(distributions::text)), 0)::float8 AS bytes
    FROM predictions WHERE scheduled_at = to_timestamp(${slotSec})
  `);
}

/**
 * Times insertPredictions alone on the rows a predict round builds for these models (one SUCCESS
 * answer each, decoded from the endpoints' text, with that text as predictRound passes it; or without
 * it, so insertPredictions serialises the values itself), in a fresh slot.
 */
export async function timeInsert(
  db: DatabasePool,
  models: readonly ModelInfo[],
  answerText: string,
  slotSec: number,
  withText: boolean,
): Promise<{ ms: number; bytes: number }> {
  const performedAt = Date.now() / 1000;
  const rows: PredictionInput[] = models.map((model) => ({
    modelId: model.modelId,
    deploymentId: model.deploymentId,
    asset: benchConfig.asset,
    horizon: benchConfig.horizon,
    step: benchConfig.step,
    status: 'SUCCESS',
    execTimeUs: 1_000,
    distributions: parsePythonJson(answerText),
    ...(withText ? { distributionsJson: answerText } : {}),
    performedAt,
    scheduledAt: slotSec,
  }));
  const started = performance.now();
  const stored = await insertPredictions(db, rows);
  const ms = performance.now() - started;
  if (stored !== rows.length) throw new Error(`the timed insert stored ${stored} of ${rows.length} rows`);
  return { ms, bytes: await storedBodyBytes(db, slotSec) };
}
