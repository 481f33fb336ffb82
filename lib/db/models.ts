import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { lastPerKey, nonEmpty, parseRows, seconds } from './validate.js';

const modelInput = z.object({
  modelId: nonEmpty,
  name: nonEmpty,
  cruncherId: z.string().nullish(),
  cruncherName: z.string().nullish(),
  wallet: z.string().nullish(),
  hotkey: z.string().nullish(),
  /** Left out: a new model is expected, an existing one keeps its flag. */
  expectedToRun: z.boolean().optional(),
});
export type ModelInput = z.input<typeof modelInput>;

/**
 * Inserts new models and refreshes known ones (names, cruncher, wallet, last seen) in one statement.
 * `seenAt` (unix seconds, default now) becomes last_seen_at, and first_seen_at for new models.
 * Returns how many rows were written.
 */
export async function upsertModels(
  db: CommonQueryMethods,
  models: readonly ModelInput[],
  seenAt?: number,
): Promise<number> {
  const rows = lastPerKey(parseRows('upsertModels', modelInput, models), (model) => model.modelId);
  if (rows.length === 0) return 0;
  const seen = seenAt === undefined ? sql.fragment`now()` : sql.fragment`to_timestamp(${seconds(seenAt, 'seenAt')})`;
  const result = await db.query(sql.unsafe`
    WITH input AS (
      SELECT * FROM ${sql.unnest(
        rows.map((row) => [
          row.modelId,
          row.name,
          row.cruncherId ?? null,
          row.cruncherName ?? null,
          row.wallet ?? null,
          row.hotkey ?? null,
          row.expectedToRun ?? null,
        ]),
        ['text', 'text', 'text', 'text', 'text', 'text', 'bool'],
      )} AS i (model_id, name, cruncher_id, cruncher_name, wallet, hotkey, expected_to_run)
    )
    INSERT INTO models AS m (model_id, name, cruncher_id, cruncher_name, wallet, hotkey, expected_to_run, first_seen_at, last_seen_at)
    SELECT model_id, name, cruncher_id, cruncher_name, wallet, hotkey, coalesce(expected_to_run, true), ${seen}, ${seen}
    FROM input
    ON CONFLICT (model_id) DO UPDATE SET
      name = excluded.name,
      cruncher_id = excluded.cruncher_id,
      cruncher_name = excluded.cruncher_name,
      wallet = excluded.wallet,
      hotkey = excluded.hotkey,
      expected_to_run = coalesce(
        (SELECT i.expected_to_run FROM input i WHERE i.model_id = excluded.model_id),
        m.expected_to_run
      ),
      last_seen_at = greatest(m.last_seen_at, excluded.last_seen_at)
  `);
  return result.rowCount;
}

/** Sets whether models are expected to run (only expected models get ABSENT rows). Returns rows changed. */
export async function setExpectedToRun(
  db: CommonQueryMethods,
  modelIds: readonly string[],
  expected: boolean,
): Promise<number> {
  if (modelIds.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    UPDATE models SET expected_to_run = ${expected}
    WHERE model_id = ANY(${sql.array(modelIds, 'text')}) AND expected_to_run IS DISTINCT FROM ${expected}
  `);
  return result.rowCount;
}

const expectedModel = z.object({
  modelId: z.string(),
  name: z.string(),
  cruncherId: z.string().nullable(),
  cruncherName: z.string().nullable(),
  wallet: z.string().nullable(),
  hotkey: z.string().nullable(),
  /** The most recently seen deployment, if any. */
  deploymentId: z.string().nullable(),
});
export type ExpectedModel = z.infer<typeof expectedModel>;

/** Models expected to run, with their latest deployment: those that do not answer get ABSENT rows. */
export async function expectedModels(db: CommonQueryMethods): Promise<ExpectedModel[]> {
  const rows = await db.any(sql.type(expectedModel)`
    SELECT m.model_id AS "modelId", m.name, m.cruncher_id AS "cruncherId", m.cruncher_name AS "cruncherName",
           m.wallet, m.hotkey, d.deployment_id AS "deploymentId"
    FROM models m
    LEFT JOIN LATERAL (
      SELECT deployment_id FROM deployments
      WHERE deployments.model_id = m.model_id
      ORDER BY last_seen_at DESC, deployment_id DESC
      LIMIT 1
    ) d ON true
    WHERE m.expected_to_run
    ORDER BY m.model_id
  `);
  return [...rows];
}
