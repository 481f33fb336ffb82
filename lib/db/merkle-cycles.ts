// The Merkle chain of score-pass snapshots (sql/010): one cycle per pass, appended once and never rewritten.
import { type CommonQueryMethods, type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod';
import {
  chainedRoot,
  cycleId,
  merkleRoot,
  resultSummaryJson,
  type SnapshotContent,
  snapshotId,
  snapshotLeafHash,
} from '../emission/index.js';
import { seconds } from './validate.js';

/** Taken (per transaction) by whatever appends to the chain or checkpoints it, so they take turns. */
export async function lockEmissionChain(tx: DatabaseTransactionConnection): Promise<void> {
  await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(7301946216)`);
}

export const merkleCycleRow = z.object({
  id: z.string(),
  cycleAtUs: z.number(),
  previousCycleId: z.string().nullable(),
  previousCycleRoot: z.string().nullable(),
  snapshotsRoot: z.string(),
  chainedRoot: z.string(),
  snapshotCount: z.number(),
  checkpointId: z.string().nullable(),
});
export type MerkleCycleRow = z.infer<typeof merkleCycleRow>;

const cycleColumns = sql.fragment`
  id, (extract(epoch FROM cycle_at) * 1000000)::bigint AS "cycleAtUs", previous_cycle_id AS "previousCycleId",
  previous_cycle_root AS "previousCycleRoot", snapshots_root AS "snapshotsRoot", chained_root AS "chainedRoot",
  snapshot_count AS "snapshotCount", checkpoint_id AS "checkpointId"
`;

export type AppendCycleResult =
  | { outcome: 'appended' | 'existing'; cycle: MerkleCycleRow }
  /** No snapshot at that instant (nothing ranked), or the chain already reaches past it. */
  | { outcome: 'no-snapshots' | 'behind-chain'; cycle: null };

const leafSource = z.object({
  modelId: z.string(),
  scoreRecent: z.number().nullable(),
  scoreSteady: z.number().nullable(),
  scoreAnchor: z.number().nullable(),
  predictionCount: z.number(),
});

/** An instant given in microseconds since the epoch, exactly (no float seconds on the way). */
export const fromMicros = (us: number) =>
  sql.fragment`(timestamptz 'epoch' + ${us}::bigint * interval '1 microsecond')`;

const finiteOrNull = (value: number | null): number | null => (value !== null && Number.isFinite(value) ? value : null);

/**
 * Appends the cycle of the score pass at `asOf` (unix seconds): the snapshots of that pass, sorted by model
 * id (code-point order), hashed as leaves; their root; that root chained after the latest cycle's. A
 * snapshot's period runs from the previous cycle's instant to this one (the first cycle's is empty), and
 * its prediction_count is the model's scored predictions resolved in that period. Idempotent: a cycle at
 * `asOf` that exists is returned as stored. A pass older than the chain's latest cycle appends nothing.
 */
export async function appendMerkleCycle(db: CommonQueryMethods, options: { asOf: number }): Promise<AppendCycleResult> {
  const asOf = seconds(options.asOf, 'asOf');
  const at = sql.fragment`to_timestamp(${asOf}::float8)`;
  return db.transaction(async (tx) => {
    await lockEmissionChain(tx);
    const existing = await tx.maybeOne(sql.type(merkleCycleRow)`
      SELECT ${cycleColumns} FROM merkle_cycles WHERE cycle_at = ${at}
    `);
    if (existing) return { outcome: 'existing', cycle: existing };
    const previous = await tx.maybeOne(sql.type(merkleCycleRow)`
      SELECT ${cycleColumns} FROM merkle_cycles ORDER BY cycle_at DESC LIMIT 1
    `);
    const atUs = await tx.oneFirst(
      sql.type(z.object({ us: z.number() }))`SELECT (extract(epoch FROM ${at}) * 1000000)::bigint AS us`,
    );
    if (previous && previous.cycleAtUs > atUs) return { outcome: 'behind-chain', cycle: null };
    const startUs = previous?.cycleAtUs ?? atUs;
    // Counted over the period's range of resolvable_at for all models at once (its own index), not per
    // model: a model's whole history would be read for each of them otherwise.
    const sources = await tx.any(sql.type(leafSource)`
      WITH counts AS (
        SELECT p.model_id, count(*) AS n FROM predictions p
        WHERE p.resolvable_at > ${fromMicros(startUs)} AND p.resolvable_at <= ${at} AND p.scored_at IS NOT NULL
        GROUP BY p.model_id
      )
      SELECT s.model_id AS "modelId", s.score_recent AS "scoreRecent", s.score_steady AS "scoreSteady",
             s.score_anchor AS "scoreAnchor", coalesce(c.n, 0)::int AS "predictionCount"
      FROM model_score_snapshots s
      LEFT JOIN counts c ON c.model_id = s.model_id
      WHERE s.as_of = ${at}
      ORDER BY s.model_id COLLATE "C"
    `);
    if (sources.length === 0) return { outcome: 'no-snapshots', cycle: null };

    const id = cycleId(atUs);
    const leaves = sources.map((source, index) => {
      const content: SnapshotContent = {
        modelId: source.modelId,
        periodStartUs: startUs,
        periodEndUs: atUs,
        predictionCount: source.predictionCount,
        resultSummary: {
          score_anchor: finiteOrNull(source.scoreAnchor),
          score_recent: finiteOrNull(source.scoreRecent),
          score_steady: finiteOrNull(source.scoreSteady),
        },
      };
      return { id: snapshotId(id, index), index, content, hash: snapshotLeafHash(content) };
    });
    const snapshotsRoot = merkleRoot(leaves.map((leaf) => leaf.hash));
    const cycle = await tx.one(sql.type(merkleCycleRow)`
      INSERT INTO merkle_cycles (id, cycle_at, previous_cycle_id, previous_cycle_root, snapshots_root, chained_root, snapshot_count)
      VALUES (${id}, ${at}, ${previous?.id ?? null}, ${previous?.chainedRoot ?? null}, ${snapshotsRoot},
              ${chainedRoot(previous?.chainedRoot ?? null, snapshotsRoot)}, ${leaves.length})
      RETURNING ${cycleColumns}
    `);
    await tx.query(sql.unsafe`
      INSERT INTO merkle_snapshots
        (id, cycle_id, leaf_index, model_id, period_start, period_end, prediction_count, result_summary, content_hash)
      SELECT l.id, ${id}, l.leaf_index, l.model_id, ${fromMicros(startUs)}, ${at},
             l.prediction_count, l.result_summary::json, l.content_hash
      FROM ${sql.unnest(
        leaves.map((leaf) => [
          leaf.id,
          leaf.index,
          leaf.content.modelId,
          leaf.content.predictionCount,
          resultSummaryJson(leaf.content.resultSummary),
          leaf.hash,
        ]),
        ['text', 'int4', 'text', 'int4', 'text', 'text'],
      )} AS l (id, leaf_index, model_id, prediction_count, result_summary, content_hash)
    `);
    return { outcome: 'appended', cycle };
  });
}
