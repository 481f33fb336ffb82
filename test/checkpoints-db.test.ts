// lib/db's Merkle chain and checkpoints on a real PostgreSQL: cycles from leaderboard snapshots,
// a checkpoint over them, idempotence, and the status moves the platform makes.
import { type DatabaseTransactionConnection, sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appendMerkleCycle, confirmCheckpoint, createCheckpoint, moveCheckpointStatus } from '../lib/db/index.js';
import { chainedRoot, merkleRoot, snapshotLeafHash } from '../lib/emission/index.js';
import { refreshLeaderboard } from '../lib/leaderboard/index.js';
import { insertModels, insertScored } from './leaderboard-support.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const T0 = Date.UTC(2026, 2, 1) / 1000;
const windows = { recent: 600, steady: 1200, anchor: 1800 };
const models = ['b-model', 'a-model', 'c-model'];

let db: TestDatabase;

async function dump(): Promise<unknown> {
  return db.pool.one(sql.unsafe`
    SELECT (SELECT json_agg(c ORDER BY id) FROM checkpoints c) AS checkpoints,
           (SELECT json_agg(e ORDER BY checkpoint_id, rank) FROM checkpoint_entries e) AS entries,
           (SELECT json_agg(m ORDER BY id) FROM merkle_cycles m) AS cycles,
           (SELECT json_agg(s ORDER BY id) FROM merkle_snapshots s) AS snapshots
  `);
}

const storedSnapshot = z.object({
  id: z.string(),
  cycleId: z.string(),
  leafIndex: z.number(),
  modelId: z.string(),
  startUs: z.number(),
  endUs: z.number(),
  predictionCount: z.number(),
  resultSummary: z.string(),
  contentHash: z.string(),
});

beforeAll(async () => {
  db = await createTestDatabase();
  await insertModels(db.pool, models);
  // Scores every minute for 2 hours; model a best, then b, then c (likelihood: higher is better).
  const rows = [];
  for (let t = T0 - 7200; t <= T0 + 3600; t += 60) {
    rows.push({ modelId: 'a-model', resolvableAt: t, value: 3 });
    rows.push({ modelId: 'b-model', resolvableAt: t, value: 2 });
    rows.push({ modelId: 'c-model', resolvableAt: t, value: 1 });
  }
  await insertScored(db.pool, rows);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

describe('the Merkle chain', () => {
  it('appends a cycle per pass with snapshots as sorted leaves, chained to the previous cycle', async () => {
    const passes = [T0, T0 + 300, T0 + 600];
    for (const asOf of passes) {
      await refreshLeaderboard(db.pool, { asOf, windows, direction: 'higher-is-better' });
      const result = await appendMerkleCycle(db.pool, { asOf });
      expect(result.outcome).toBe('appended');
    }
    const cycles = await db.pool.any(sql.type(
      z.object({ id: z.string(), previous: z.string().nullable(), snapshotsRoot: z.string(), chainedRoot: z.string() }),
    )`SELECT id, previous_cycle_root AS previous, snapshots_root AS "snapshotsRoot", chained_root AS "chainedRoot"
      FROM merkle_cycles ORDER BY cycle_at`);
    expect(cycles.map((c) => c.id)).toEqual([
      'CYC_20260301_000000_000000',
      'CYC_20260301_000500_000000',
      'CYC_20260301_001000_000000',
    ]);
    let previous: string | null = null;
    for (const cycle of cycles) {
      const leaves = await db.pool.any(sql.type(storedSnapshot)`
        SELECT id, cycle_id AS "cycleId", leaf_index AS "leafIndex", model_id AS "modelId",
               (extract(epoch FROM period_start) * 1000000)::bigint AS "startUs",
               (extract(epoch FROM period_end) * 1000000)::bigint AS "endUs",
               prediction_count AS "predictionCount", result_summary::text AS "resultSummary", content_hash AS "contentHash"
        FROM merkle_snapshots WHERE cycle_id = ${cycle.id} ORDER BY leaf_index`);
      expect(leaves.map((leaf) => leaf.modelId)).toEqual(['a-model', 'b-model', 'c-model']);
      for (const leaf of leaves) {
        const summary = JSON.parse(leaf.resultSummary) as Record<string, number | null>;
        expect(leaf.resultSummary).toMatch(/"score_anchor":\d\.0/);
        expect(
          snapshotLeafHash({
            modelId: leaf.modelId,
            periodStartUs: leaf.startUs,
            periodEndUs: leaf.endUs,
            predictionCount: leaf.predictionCount,
            resultSummary: summary,
          }),
        ).toBe(leaf.contentHash);
        // Five minutes of one score a minute, after the first cycle (whose period is empty).
        expect(leaf.predictionCount).toBe(previous === null ? 0 : 5);
      }
      expect(cycle.snapshotsRoot).toBe(merkleRoot(leaves.map((leaf) => leaf.contentHash)));
      expect(cycle.previous).toBe(previous);
      expect(cycle.chainedRoot).toBe(chainedRoot(previous, cycle.snapshotsRoot));
      previous = cycle.chainedRoot;
    }
  });

  it('returns an existing cycle as stored, and appends nothing behind the chain or without snapshots', async () => {
    const before = await dump();
    expect((await appendMerkleCycle(db.pool, { asOf: T0 + 300 })).outcome).toBe('existing');
    expect((await appendMerkleCycle(db.pool, { asOf: T0 + 100 })).outcome).toBe('behind-chain');
    expect((await appendMerkleCycle(db.pool, { asOf: T0 + 700 })).outcome).toBe('no-snapshots');
    expect(await dump()).toEqual(before);
  });
});

describe('checkpoints', () => {
  const options = { everySeconds: 3600, crunch: 'CrunchAddress111', computeProvider: 'Compute111' };

  it('ranks by the leaderboard at the period end, pays the tiers and roots the cycles', async () => {
    const result = await createCheckpoint(db.pool, { ...options, periodEnd: T0 + 900 });
    expect(result.outcome).toBe('created');
    expect(result.checkpoint).toMatchObject({
      id: 'CKP_20260301_001500',
      periodStart: T0 + 900 - 3600,
      periodEnd: T0 + 900,
      status: 'PENDING',
      models: 3,
      cycles: 3,
      snapshots: 9,
      leaderboardAsOf: T0 + 600,
    });
    const roots = await db.pool.anyFirst(sql.type(z.object({ root: z.string() }))`
      SELECT chained_root AS root FROM merkle_cycles WHERE checkpoint_id = 'CKP_20260301_001500' ORDER BY cycle_at`);
    expect(result.checkpoint?.merkleRoot).toBe(merkleRoot(roots));
    const entries = await db.pool.any(sql.unsafe`
      SELECT rank, model_id, prediction_count, snapshot_count, reward_pct FROM checkpoint_entries ORDER BY rank`);
    expect(entries).toEqual([
      { rank: 1, model_id: 'a-model', prediction_count: 10, snapshot_count: 3, reward_pct: 500_000_000 },
      { rank: 2, model_id: 'b-model', prediction_count: 10, snapshot_count: 3, reward_pct: 250_000_000 },
      { rank: 3, model_id: 'c-model', prediction_count: 10, snapshot_count: 3, reward_pct: 250_000_000 },
    ]);
  });

  it('makes a period once: again changes nothing, an earlier end is covered', async () => {
    const before = await dump();
    expect((await createCheckpoint(db.pool, { ...options, periodEnd: T0 + 900 })).outcome).toBe('existing');
    expect((await createCheckpoint(db.pool, { ...options, periodEnd: T0 + 600 })).outcome).toBe('covered');
    expect(await dump()).toEqual(before);
  });

  it('starts the next period where the last ended and takes only the cycles since', async () => {
    expect((await createCheckpoint(db.pool, { ...options, periodEnd: T0 + 1200 })).outcome).toBe('nothing-ranked');
    await refreshLeaderboard(db.pool, { asOf: T0 + 1500, windows, direction: 'higher-is-better' });
    await appendMerkleCycle(db.pool, { asOf: T0 + 1500 });
    const result = await createCheckpoint(db.pool, { ...options, periodEnd: T0 + 1800 });
    expect(result.checkpoint).toMatchObject({ periodStart: T0 + 900, cycles: 1, snapshots: 3 });
  });

  it('moves through confirm and the allowed status changes only', async () => {
    const id = 'CKP_20260301_001500';
    expect(await confirmCheckpoint(db.pool, 'CKP_nope', 'tx1')).toEqual({ outcome: 'not-found' });
    expect(await moveCheckpointStatus(db.pool, id, 'CLAIMABLE')).toMatchObject({
      outcome: 'conflict',
      status: 'PENDING',
    });
    expect(await confirmCheckpoint(db.pool, id, 'tx1')).toEqual({ outcome: 'changed' });
    expect(await confirmCheckpoint(db.pool, id, 'tx1')).toEqual({ outcome: 'unchanged' });
    expect(await confirmCheckpoint(db.pool, id, 'tx2')).toMatchObject({ outcome: 'conflict', txHash: 'tx1' });
    expect(await moveCheckpointStatus(db.pool, id, 'SUBMITTED')).toMatchObject({ outcome: 'conflict' });
    expect(await moveCheckpointStatus(db.pool, id, 'CLAIMABLE')).toEqual({ outcome: 'changed' });
    expect(await moveCheckpointStatus(db.pool, id, 'PAID')).toEqual({ outcome: 'changed' });
    expect(await moveCheckpointStatus(db.pool, id, 'PAID')).toMatchObject({ outcome: 'conflict', status: 'PAID' });
  });

  it('lets a role that may only read make exactly the settlement moves, and no other write', async () => {
    const role = `reader_${db.name}`;
    await db.pool.query(sql.unsafe`CREATE ROLE ${sql.identifier([role])}`);
    try {
      await db.pool.query(sql.unsafe`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${sql.identifier([role])}`);
      const asReader = <T>(work: (tx: DatabaseTransactionConnection) => Promise<T>) =>
        db.pool.transaction(async (tx) => {
          await tx.query(sql.unsafe`SET LOCAL ROLE ${sql.identifier([role])}`);
          return work(tx);
        });
      const id = 'CKP_20260301_003000';
      expect(await asReader((tx) => confirmCheckpoint(tx, id, 'tx9'))).toEqual({ outcome: 'changed' });
      expect(await asReader((tx) => moveCheckpointStatus(tx, id, 'CLAIMABLE'))).toEqual({ outcome: 'changed' });
      await expect(
        asReader((tx) => tx.query(sql.unsafe`UPDATE checkpoints SET status = 'PAID' WHERE id = ${id}`)),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await db.pool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([role])}`);
      await db.pool.query(sql.unsafe`DROP ROLE ${sql.identifier([role])}`);
    }
  });
});
