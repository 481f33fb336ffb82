import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { insertStatement, type PredictionRecord, runStatements, statementsOf } from './prediction-statements.js';
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
    /**
     * The same answer as JSON text when the caller has it (as the model sent it): stored as it is
     * instead of serialising `distributions` again. It must be JSON PostgreSQL accepts.
     */
    distributionsJson: z.string().optional(),
    /** Unix seconds, taken before the call; resolvable_at = performedAt + horizon. */
    performedAt: unixSeconds,
    /** Unix seconds: the predict cycle's scheduled time. */
    scheduledAt: unixSeconds.nullish(),
  })
  .refine(
    (row) =>
      row.status === 'SUCCESS' ||
      ((row.distributions === undefined || row.distributions === null) && row.distributionsJson === undefined),
    { message: 'only a SUCCESS prediction may carry distributions', path: ['distributions'] },
  );
export type PredictionInput = z.input<typeof predictionInput>;

/** Characters of body JSON per statement: small enough that serialising the next overlaps the current. */
const STATEMENT_CHARS = 2 * 1024 * 1024;
/** Rows per statement at most: 12 parameters each, and PostgreSQL takes 65,535. */
const MAX_ROWS_PER_STATEMENT = 5_000;

export interface InsertPredictionsOptions {
  /** Characters of body JSON after which a batch continues in another statement (default 2 Mi). */
  statementChars?: number;
}

// PostgreSQL text cannot hold U+0000 nor, through JSON, a lone surrogate: a model's error message with
// one would otherwise fail the whole batch.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const storableText = (text: string) => text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATE, '\ufffd');

type ValidPrediction = z.output<typeof predictionInput>;

function* recordsOf(rows: readonly ValidPrediction[]): Generator<PredictionRecord> {
  for (const row of rows) {
    const record: PredictionRecord = {
      model_id: row.modelId,
      deployment_id: row.deploymentId ?? null,
      asset: row.asset,
      horizon: row.horizon,
      step: row.step,
      status: row.status,
      reason: row.reason == null ? null : storableText(row.reason),
      exec_time_us: row.execTimeUs ?? null,
      performed_at: row.performedAt,
      scheduled_at: row.scheduledAt ?? null,
      body: null,
    };
    if (row.status === 'SUCCESS') {
      const body = row.distributionsJson === undefined ? bodyJson(row.distributions) : { text: row.distributionsJson };
      if ('text' in body) {
        record.body = body.text;
      } else {
        record.status = 'FAILED';
        record.reason = storableText(body.unwritable);
      }
    }
    yield record;
  }
}

/**
 * The body as stored: JSON null stays JSON null (a SUCCESS whose answer was None), not SQL NULL. A
 * value JSON.stringify refuses (a cycle, a BigInt, nesting deeper than its recursion goes, a throwing
 * toJSON) is reported rather than thrown: one such answer must not cost the rest of the round.
 */
function bodyJson(distributions: unknown): { text: string | null } | { unwritable: string } {
  if (distributions === undefined) return { text: null };
  try {
    return { text: JSON.stringify(distributions) ?? 'null' };
  } catch (error) {
    return { unwritable: `distributions cannot be written as JSON: ${String(error).slice(0, 500)}` };
  }
}

/**
 * Stores a batch of predictions and returns how many were new. A row whose (model, asset, horizon,
 * step, performed_at) or (model, asset, horizon, step, scheduled_at) is already stored is skipped, so
 * a retried activity never duplicates. A SUCCESS whose distributions JSON.stringify cannot write is
 * stored as FAILED, without a body, with the reason ("distributions cannot be written as JSON: ..."),
 * and the rest of the batch as given: retrying would meet the same value, so throwing would lose the
 * round every time. A batch is one statement, or, past a few MB of bodies, several
 * in one transaction: all of it is stored or none. Bodies go in a `json` column as the text sent.
 */
export async function insertPredictions(
  db: CommonQueryMethods,
  predictions: readonly PredictionInput[],
  options: InsertPredictionsOptions = {},
): Promise<number> {
  const rows = parseRows('insertPredictions', predictionInput, predictions);
  const statementChars = options.statementChars ?? STATEMENT_CHARS;
  if (!(statementChars > 0)) throw new RangeError(`statementChars must be positive, got ${statementChars}`);
  const statements = statementsOf(recordsOf(rows), { statementChars, maxRows: MAX_ROWS_PER_STATEMENT });
  const first = statements.next();
  if (first.done) return 0;
  if (first.value.records.length === rows.length) return insertStatement(db, first.value);
  return db.transaction((transaction) => runStatements(transaction, statements, first.value));
}
