// Emission checkpoints (sql/010): made once per period from the leaderboard and the Merkle chain, then
// moved through PENDING -> SUBMITTED -> CLAIMABLE -> PAID by the platform that settles them.
import { type CommonQueryMethods, type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import { buildEmission, checkpointId, checkpointPeriod, merkleRoot } from '../emission/index.js';
import { lockEmissionChain } from './merkle-cycles.js';
import { seconds } from './validate.js';

export const checkpointStatuses = ['PENDING', 'SUBMITTED', 'CLAIMABLE', 'PAID'] as const;
export type CheckpointStatus = (typeof checkpointStatuses)[number];

export interface CreateCheckpointOptions {
  /** Unix seconds: the period's end (the schedule's time). */
  periodEnd: number;
  /** Length of the first period (later ones start where the previous one ended). */
  everySeconds: number;
  /** The crunch's on-chain address, and the provider wallets paid 100 % of their pools, if any. */
  crunch: string;
  computeProvider?: string | undefined;
  dataProvider?: string | undefined;
}

export interface CheckpointSummary {
  id: string;
  /** Unix seconds. */
  periodStart: number;
  periodEnd: number;
  status: CheckpointStatus;
  models: number;
  cycles: number;
  snapshots: number;
  merkleRoot: string | null;
  /** Unix seconds of the leaderboard the ranking came from. */
  leaderboardAsOf: number;
}

export type CreateCheckpointResult =
  | { outcome: 'created' | 'existing'; checkpoint: CheckpointSummary }
  /** A checkpoint ending at or after periodEnd exists: nothing is left to cover. */
  | { outcome: 'covered'; checkpoint: null }
  /** No leaderboard in the period: nothing to pay; the next period starts where the last checkpoint ended. */
  | { outcome: 'nothing-ranked'; checkpoint: null; period: { start: number; end: number } };

const summaryRow = z.object({
  id: z.string(),
  periodStart: z.number(),
  periodEnd: z.number(),
  status: z.enum(checkpointStatuses),
  models: z.number(),
  cycles: z.number(),
  snapshots: z.number(),
  merkleRoot: z.string().nullable(),
  leaderboardAsOf: z.number(),
});

const summaryQuery = (where: ReturnType<typeof sql.fragment>) => sql.type(summaryRow)`
  SELECT c.id, extract(epoch FROM c.period_start)::float8 AS "periodStart",
         extract(epoch FROM c.period_end)::float8 AS "periodEnd", c.status,
         (SELECT count(*) FROM checkpoint_entries e WHERE e.checkpoint_id = c.id)::int AS models,
         c.cycle_count AS cycles, c.snapshot_count AS snapshots, c.merkle_root AS "merkleRoot",
         extract(epoch FROM c.leaderboard_as_of)::float8 AS "leaderboardAsOf"
  FROM checkpoints c WHERE ${where}
`;

const rankedRow = z.object({
  rank: z.number(),
  modelId: z.string(),
  modelName: z.string().nullable(),
  cruncherName: z.string().nullable(),
  predictionCount: z.number(),
  snapshotCount: z.number(),
  resultSummary: z.string(),
});

/**
 * Makes the checkpoint of the period ending at `periodEnd`, in one transaction: the ranking of the newest
 * leaderboard in the period (at or before its end), the default tiers in frac64, and a Merkle root over
 * every cycle appended since the previous checkpoint up to the period's end, which the cycles then point
 * to. Idempotent per period end: a second call returns the stored checkpoint unchanged.
 */
export async function createCheckpoint(
  db: CommonQueryMethods,
  options: CreateCheckpointOptions,
): Promise<CreateCheckpointResult> {
  const end = seconds(options.periodEnd, 'periodEnd');
  const every = seconds(options.everySeconds, 'everySeconds');
  if (!(every > 0)) throw new RangeError(`everySeconds must be positive, got ${every}`);
  const endTs = sql.fragment`to_timestamp(${end}::float8)`;
  return db.transaction(async (tx) => {
    await lockEmissionChain(tx);
    const existing = await tx.maybeOne(summaryQuery(sql.fragment`c.period_end = ${endTs}`));
    if (existing) return { outcome: 'existing', checkpoint: existing };
    const previousEnd = await tx.oneFirst(
      sql.type(z.object({ end: z.number().nullable() }))`
        SELECT extract(epoch FROM max(period_end))::float8 AS end FROM checkpoints
      `,
    );
    const period = checkpointPeriod(end, every, previousEnd);
    if (period === null) return { outcome: 'covered', checkpoint: null };
    const leaderboard = await tx.maybeOne(sql.type(z.object({ id: z.number(), asOf: z.number() }))`
      SELECT id, extract(epoch FROM as_of)::float8 AS "asOf" FROM leaderboards
      WHERE as_of <= ${endTs} AND as_of > to_timestamp(${period.start}::float8)
      ORDER BY as_of DESC LIMIT 1
    `);
    if (!leaderboard) return { outcome: 'nothing-ranked', checkpoint: null, period };

    const cycles = await tx.any(sql.type(z.object({ id: z.string(), chainedRoot: z.string() }))`
      SELECT id, chained_root AS "chainedRoot" FROM merkle_cycles
      WHERE checkpoint_id IS NULL AND cycle_at <= ${endTs}
      ORDER BY cycle_at
    `);
    const cycleIds = sql.array(
      cycles.map((cycle) => cycle.id),
      'text',
    );
    const ranked = await tx.any(sql.type(rankedRow)`
      SELECT e.rank, e.model_id AS "modelId", m.name AS "modelName", m.cruncher_name AS "cruncherName",
             coalesce(st.predictions, 0)::int AS "predictionCount", coalesce(st.snapshots, 0)::int AS "snapshotCount",
             jsonb_build_object('score_recent', e.score_recent, 'score_steady', e.score_steady,
                                'score_anchor', e.score_anchor)::text AS "resultSummary"
      FROM leaderboard_entries e
      LEFT JOIN models m ON m.model_id = e.model_id
      LEFT JOIN (
        SELECT model_id, sum(prediction_count) AS predictions, count(*) AS snapshots
        FROM merkle_snapshots WHERE cycle_id = ANY(${cycleIds}) GROUP BY model_id
      ) st ON st.model_id = e.model_id
      WHERE e.leaderboard_id = ${leaderboard.id}
      ORDER BY e.rank
    `);
    const emission = buildEmission(
      ranked.map((entry) => entry.rank),
      { crunch: options.crunch, computeProvider: options.computeProvider, dataProvider: options.dataProvider },
    );
    const id = checkpointId(end * 1000);
    const root = cycles.length > 0 ? merkleRoot(cycles.map((cycle) => cycle.chainedRoot)) : null;
    const snapshots = await tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT coalesce(sum(snapshot_count), 0)::int AS n FROM merkle_cycles WHERE id = ANY(${cycleIds})
    `);
    await tx.query(sql.unsafe`
      INSERT INTO checkpoints (id, period_start, period_end, emission, leaderboard_as_of, merkle_root, cycle_count, snapshot_count)
      VALUES (${id}, to_timestamp(${period.start}::float8), ${endTs}, ${sql.jsonb(JSON.parse(JSON.stringify(emission)))},
              to_timestamp(${leaderboard.asOf}::float8), ${root}, ${cycles.length}, ${snapshots})
    `);
    await tx.query(sql.unsafe`
      INSERT INTO checkpoint_entries
        (checkpoint_id, rank, model_id, model_name, cruncher_name, prediction_count, snapshot_count, result_summary, reward_pct)
      SELECT ${id}, r.rank, r.model_id, r.model_name, r.cruncher_name, r.prediction_count, r.snapshot_count,
             r.result_summary::jsonb, r.reward_pct
      FROM ${sql.unnest(
        ranked.map((entry, index) => [
          entry.rank,
          entry.modelId,
          entry.modelName,
          entry.cruncherName,
          entry.predictionCount,
          entry.snapshotCount,
          entry.resultSummary,
          emission.cruncher_rewards[index]?.reward_pct ?? 0,
        ]),
        ['int4', 'text', 'text', 'text', 'int4', 'int4', 'text', 'int8'],
      )} AS r (rank, model_id, model_name, cruncher_name, prediction_count, snapshot_count, result_summary, reward_pct)
    `);
    await tx.query(sql.unsafe`UPDATE merkle_cycles SET checkpoint_id = ${id} WHERE id = ANY(${cycleIds})`);
    const checkpoint = await tx.one(summaryQuery(sql.fragment`c.id = ${id}`));
    return { outcome: 'created', checkpoint };
  });
}

export async function latestCheckpointEnd(db: CommonQueryMethods): Promise<number | null> {
  return db.oneFirst(sql.type(z.object({ end: z.number().nullable() }))`
    SELECT extract(epoch FROM max(period_end))::float8 AS end FROM checkpoints
  `);
}

export type StatusChange =
  | { outcome: 'changed' | 'unchanged' }
  | { outcome: 'not-found' }
  | { outcome: 'conflict'; status: CheckpointStatus; txHash: string | null };

const outcome = z.object({ outcome: z.enum(['changed', 'unchanged', 'not-found', 'conflict']) });
const current = z.object({ status: z.enum(checkpointStatuses), txHash: z.string().nullable() });

/** The outcome of a settlement function (sql/010), with the checkpoint's state when it is a conflict. */
async function settle(db: CommonQueryMethods, call: FragmentSqlToken, id: string): Promise<StatusChange> {
  const result = await db.oneFirst(sql.type(outcome)`SELECT ${call} AS outcome`);
  if (result !== 'conflict') return { outcome: result };
  const row = await db.one(sql.type(current)`SELECT status, tx_hash AS "txHash" FROM checkpoints WHERE id = ${id}`);
  return { outcome: 'conflict', ...row };
}

/**
 * The platform's confirmation that it settled a PENDING checkpoint on chain: SUBMITTED, with the
 * transaction's hash and the time. Idempotent: the same hash again changes nothing ('unchanged'); a
 * different hash, or a checkpoint that is no longer PENDING without this hash, is a conflict. The rule
 * lives in the database (`checkpoint_confirm`), which a read-only gateway role may call.
 */
export function confirmCheckpoint(db: CommonQueryMethods, id: string, txHash: string): Promise<StatusChange> {
  return settle(db, sql.fragment`checkpoint_confirm(${id}, ${txHash})`, id);
}

/**
 * Moves a checkpoint one step along PENDING -> SUBMITTED -> CLAIMABLE -> PAID (`checkpoint_move`); any
 * other move, to the same state included, is a conflict.
 */
export function moveCheckpointStatus(
  db: CommonQueryMethods,
  id: string,
  status: CheckpointStatus,
): Promise<StatusChange> {
  return settle(db, sql.fragment`checkpoint_move(${id}, ${status})`, id);
}
