// Checkpoints and the Merkle chain as CrunchDAO's platform reads them (sql/010). Bodies are JSON text
// built by PostgreSQL, as for the other reports.
import { type CommonQueryMethods, type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import { isoUtc } from '../times.js';

/** Python's `isoformat()` of a UTC instant: microseconds only when not zero (the leaves hash this text). */
export const pythonIso = (...column: string[]) => sql.fragment`(
  to_char(${sql.identifier(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
  || CASE WHEN date_part('microseconds', ${sql.identifier(column)})::bigint % 1000000 = 0 THEN ''
          ELSE to_char(${sql.identifier(column)} AT TIME ZONE 'UTC', '.US') END
  || '+00:00')`;

const body = z.object({ body: z.string() });
const maybeBody = z.object({ body: z.string().nullable() });

/** One checkpoint document: the reference's fields plus `merkle_root` and meta's `cycle_count`, `leaderboard_as_of`. */
const checkpointDocument = sql.fragment`json_build_object(
  'id', c.id,
  'period_start', ${isoUtc('c', 'period_start')},
  'period_end', ${isoUtc('c', 'period_end')},
  'status', c.status,
  'entries', json_build_array(c.emission),
  'meta', json_build_object(
    'snapshot_count', c.snapshot_count,
    'model_count', (SELECT count(*) FROM checkpoint_entries e WHERE e.checkpoint_id = c.id),
    'cycle_count', c.cycle_count,
    'leaderboard_as_of', ${isoUtc('c', 'leaderboard_as_of')},
    'ranking', coalesce((
      SELECT json_agg(json_build_object(
        'model_id', e.model_id, 'model_name', e.model_name, 'cruncher_name', e.cruncher_name,
        'prediction_count', e.prediction_count, 'snapshot_count', e.snapshot_count,
        'result_summary', e.result_summary, 'rank', e.rank, 'reward_pct', e.reward_pct) ORDER BY e.rank)
      FROM checkpoint_entries e WHERE e.checkpoint_id = c.id), '[]'::json)
  ),
  'created_at', ${isoUtc('c', 'created_at')},
  'tx_hash', c.tx_hash,
  'submitted_at', ${isoUtc('c', 'submitted_at')},
  'merkle_root', c.merkle_root
)`;

/** Newest first, optionally of one status. */
export async function checkpointList(
  db: CommonQueryMethods,
  options: { status?: string | undefined; limit: number },
): Promise<string> {
  const where = options.status === undefined ? sql.fragment`true` : sql.fragment`c.status = ${options.status}`;
  return db.oneFirst(sql.type(body)`
    SELECT '[' || coalesce(string_agg(d.doc::text, ',' ORDER BY d.period_end DESC), '') || ']' AS body
    FROM (
      SELECT ${checkpointDocument} AS doc, c.period_end FROM checkpoints c WHERE ${where}
      ORDER BY c.period_end DESC LIMIT ${options.limit}
    ) d
  `);
}

async function oneCheckpoint(db: CommonQueryMethods, where: FragmentSqlToken): Promise<string | null> {
  const row = await db.maybeOne(sql.type(maybeBody)`
    SELECT ${checkpointDocument}::text AS body FROM checkpoints c WHERE ${where} ORDER BY c.period_end DESC LIMIT 1
  `);
  return row?.body ?? null;
}

export const checkpointById = (db: CommonQueryMethods, id: string) => oneCheckpoint(db, sql.fragment`c.id = ${id}`);
export const latestCheckpoint = (db: CommonQueryMethods) => oneCheckpoint(db, sql.fragment`true`);

/**
 * One row per model per checkpoint (the newest `limit` checkpoints), by period end then rank:
 * `reward_pct` in percent to 4 decimals, and the numeric figures of the model's summary flattened in.
 */
export async function checkpointRewards(
  db: CommonQueryMethods,
  options: { modelId?: string | undefined; limit: number },
): Promise<string> {
  const model = options.modelId === undefined ? sql.fragment`true` : sql.fragment`e.model_id = ${options.modelId}`;
  return db.oneFirst(sql.type(body)`
    SELECT '[' || coalesce(string_agg(doc::text, ',' ORDER BY c.period_end, e.rank), '') || ']' AS body
    FROM (SELECT * FROM checkpoints ORDER BY period_end DESC LIMIT ${options.limit}) c
    JOIN checkpoint_entries e ON e.checkpoint_id = c.id
    CROSS JOIN LATERAL (
      SELECT jsonb_build_object(
        'checkpoint_id', c.id, 'period_start', ${isoUtc('c', 'period_start')},
        'period_end', ${isoUtc('c', 'period_end')}, 'model_id', e.model_id, 'model_name', e.model_name,
        'rank', e.rank, 'reward_pct', round(e.reward_pct / 1e9 * 100, 4)::float8,
        'prediction_count', e.prediction_count
      ) || coalesce((
        SELECT jsonb_object_agg(key, value) FROM jsonb_each(e.result_summary) WHERE jsonb_typeof(value) = 'number'
      ), '{}'::jsonb) AS doc
    ) d
    WHERE ${model}
  `);
}

const cycleDocument = sql.fragment`json_build_object(
  'id', m.id, 'previous_cycle_id', m.previous_cycle_id, 'previous_cycle_root', m.previous_cycle_root,
  'snapshots_root', m.snapshots_root, 'chained_root', m.chained_root, 'snapshot_count', m.snapshot_count,
  'created_at', ${isoUtc('m', 'cycle_at')}, 'checkpoint_id', m.checkpoint_id
)`;

/** Cycles in time order from `since`, at most `limit`. `created_at` is the score pass's instant. */
export async function merkleCycles(
  db: CommonQueryMethods,
  options: { since?: string | undefined; until?: string | undefined; limit: number },
): Promise<string> {
  const since =
    options.since === undefined ? sql.fragment`true` : sql.fragment`m.cycle_at >= ${options.since}::timestamptz`;
  const until =
    options.until === undefined ? sql.fragment`true` : sql.fragment`m.cycle_at <= ${options.until}::timestamptz`;
  return db.oneFirst(sql.type(body)`
    SELECT '[' || coalesce(string_agg(d.doc::text, ',' ORDER BY d.cycle_at), '') || ']' AS body
    FROM (
      SELECT ${cycleDocument} AS doc, m.cycle_at FROM merkle_cycles m WHERE ${since} AND ${until}
      ORDER BY m.cycle_at LIMIT ${options.limit}
    ) d
  `);
}

export async function merkleCycle(db: CommonQueryMethods, id: string): Promise<string | null> {
  const row = await db.maybeOne(
    sql.type(maybeBody)`SELECT ${cycleDocument}::text AS body FROM merkle_cycles m WHERE m.id = ${id}`,
  );
  return row?.body ?? null;
}

/**
 * Snapshots as hashed into the Merkle cycles, in time order then leaf order: `period_start` and
 * `period_end` in the exact text the leaf hashed (Python isoformat), `result_summary` as hashed.
 */
export async function merkleSnapshots(
  db: CommonQueryMethods,
  options: { modelId?: string | undefined; since?: string | undefined; until?: string | undefined; limit: number },
): Promise<string> {
  const model = options.modelId === undefined ? sql.fragment`true` : sql.fragment`s.model_id = ${options.modelId}`;
  const since =
    options.since === undefined ? sql.fragment`true` : sql.fragment`s.period_end >= ${options.since}::timestamptz`;
  const until =
    options.until === undefined ? sql.fragment`true` : sql.fragment`s.period_start <= ${options.until}::timestamptz`;
  return db.oneFirst(sql.type(body)`
    SELECT '[' || coalesce(string_agg(d.doc, ',' ORDER BY d.period_end, d.leaf_index), '') || ']' AS body
    FROM (
      SELECT json_build_object(
        'id', s.id, 'model_id', s.model_id, 'period_start', ${pythonIso('s', 'period_start')},
        'period_end', ${pythonIso('s', 'period_end')}, 'prediction_count', s.prediction_count,
        'result_summary', s.result_summary, 'created_at', ${isoUtc('s', 'period_end')},
        'cycle_id', s.cycle_id, 'content_hash', s.content_hash
      )::text AS doc, s.period_end, s.leaf_index
      FROM merkle_snapshots s WHERE ${model} AND ${since} AND ${until}
      ORDER BY s.period_end, s.leaf_index LIMIT ${options.limit}
    ) d
  `);
}

const proofSource = z.object({
  snapshotId: z.string(),
  contentHash: z.string(),
  leafIndex: z.number(),
  cycleId: z.string(),
  chainedRoot: z.string(),
  snapshotsRoot: z.string(),
  previousCycleRoot: z.string().nullable(),
  checkpointId: z.string().nullable(),
  checkpointRoot: z.string().nullable(),
  leaves: z.array(z.string()),
  checkpointCycles: z.array(z.string()).nullable(),
});
export type ProofSource = z.infer<typeof proofSource>;

/** What a proof is built from: the snapshot, its cycle's leaves and, once checkpointed, the checkpoint's cycles. */
export async function proofSourceOf(db: CommonQueryMethods, snapshotId: string): Promise<ProofSource | null> {
  return db.maybeOne(sql.type(proofSource)`
    SELECT s.id AS "snapshotId", s.content_hash AS "contentHash", s.leaf_index AS "leafIndex", m.id AS "cycleId",
           m.chained_root AS "chainedRoot", m.snapshots_root AS "snapshotsRoot",
           m.previous_cycle_root AS "previousCycleRoot", m.checkpoint_id AS "checkpointId",
           c.merkle_root AS "checkpointRoot",
           ARRAY(SELECT l.content_hash FROM merkle_snapshots l WHERE l.cycle_id = m.id ORDER BY l.leaf_index) AS leaves,
           CASE WHEN c.id IS NULL THEN NULL ELSE ARRAY(
             SELECT o.chained_root FROM merkle_cycles o WHERE o.checkpoint_id = c.id ORDER BY o.cycle_at
           ) END AS "checkpointCycles"
    FROM merkle_snapshots s
    JOIN merkle_cycles m ON m.id = s.cycle_id
    LEFT JOIN checkpoints c ON c.id = m.checkpoint_id
    WHERE s.id = ${snapshotId}
  `);
}
