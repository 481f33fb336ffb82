// Rolling windows, snapshots and ranks in SQL (lib/leaderboard on sql/005) against lib/game's pure
// reference, on histories written straight into a fresh database: every window (anchor included), every
// null and tie rule, failed predictions, out-of-order writes, rescoring, deletions, concurrent writers.
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { recordScores } from '../lib/db/index.js';
import {
  condor,
  type GroupWindowScores,
  groupWindowScores,
  type ModelWindowScores,
  modelWindowScores,
  rankModels,
} from '../lib/game/index.js';
import { readWindowScores, refreshLeaderboard } from '../lib/leaderboard/index.js';
import { closeTo, DAY, insertModels, insertScored, type ScoredRow, storedScores } from './leaderboard-support.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { mulberry32 } from './support/mulberry32.js';

const T = 1_750_000_000 - (1_750_000_000 % 3600); // a whole hour
const windows = condor.windows;
const at = (daysAgo: number) => T - daysAgo * DAY;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const groupKey = (row: { modelId: string; asset: string; horizon: number; step: number }) =>
  `${row.modelId}/${row.asset}/${row.horizon}/${row.step}`;

/** SQL windows at asOf against the reference on the same stored scores. */
async function expectSameAsReference(asOf: number): Promise<void> {
  const ours = await readWindowScores(db.pool, { asOf, windows });
  const reference = groupWindowScores(await storedScores(db.pool), asOf, windows);
  const referenceModels = modelWindowScores(reference);
  const byKey = new Map(reference.map((group) => [groupKey(group), group]));
  expect(ours.groups.map(groupKey).sort()).toEqual([...byKey.keys()].sort());
  const mismatches: string[] = [];
  const compare = (
    what: string,
    a: GroupWindowScores | ModelWindowScores,
    b: GroupWindowScores | ModelWindowScores,
  ) => {
    for (const name of ['recent', 'steady', 'anchor'] as const) {
      if (!closeTo(a[name], b[name])) mismatches.push(`${what} ${name}: ${a[name]} vs reference ${b[name]}`);
    }
  };
  for (const group of ours.groups) compare(groupKey(group), group, byKey.get(groupKey(group))!);
  const modelsByKey = new Map(referenceModels.map((model) => [model.modelId, model]));
  expect(ours.models.map((model) => model.modelId).sort()).toEqual([...modelsByKey.keys()].sort());
  for (const model of ours.models) compare(model.modelId, model, modelsByKey.get(model.modelId)!);
  expect(mismatches, `at ${new Date(asOf * 1000).toISOString()}`).toEqual([]);
}

const entryRow = z.object({
  rank: z.number(),
  modelId: z.string(),
  recent: z.number().nullable(),
  steady: z.number().nullable(),
  anchor: z.number().nullable(),
});

async function leaderboardAt(asOf: number) {
  return db.pool.any(sql.type(entryRow)`
    SELECT e.rank, e.model_id AS "modelId", e.score_recent AS recent, e.score_steady AS steady, e.score_anchor AS anchor
    FROM leaderboard_entries e JOIN leaderboards l ON l.id = e.leaderboard_id
    WHERE l.as_of = to_timestamp(${asOf}::float8) ORDER BY e.rank
  `);
}

/** Every row of the tables a refresh writes, in a fixed order, for before/after comparisons. */
async function refreshTables() {
  const text = z.object({ row: z.string() });
  return {
    leaderboards: await db.pool.anyFirst(sql.type(text)`SELECT row(l.*)::text AS row FROM leaderboards l ORDER BY id`),
    entries: await db.pool.anyFirst(
      sql.type(text)`SELECT row(e.*)::text AS row FROM leaderboard_entries e ORDER BY leaderboard_id, rank`,
    ),
    snapshots: await db.pool.anyFirst(
      sql.type(text)`SELECT row(s.*)::text AS row FROM model_score_snapshots s ORDER BY model_id, as_of`,
    ),
  };
}

/** Consecutive surviving rows of a group differ by exactly their value and a count of one. */
async function expectConsistentRunningTotals(): Promise<void> {
  await db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT score_running_totals_settle()`);
    const broken = await tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM (
        SELECT running_sum - lag(running_sum) OVER w AS step_sum, running_count - lag(running_count) OVER w AS step_count,
               value::numeric AS value
        FROM score_running_totals WINDOW w AS (PARTITION BY group_id ORDER BY resolvable_at, prediction_id)
      ) steps
      WHERE step_sum IS NOT NULL AND (step_sum <> value OR step_count <> 1)
    `);
    expect(broken).toBe(0);
    const left = await tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM score_groups WHERE dirty_from_at IS NOT NULL`);
    expect(left).toBe(0);
    const missing = await tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT (SELECT count(*) FROM scores)::int - (SELECT count(*) FROM score_running_totals)::int AS n`);
    expect(missing).toBe(0);
  });
}

describe('a constructed history', () => {
  const ETH_DAY = { asset: 'ETH', horizon: 86_400, step: 300 };
  const ETH_HOUR = { asset: 'ETH', horizon: 3600, step: 60 };
  let rescoreId: number;
  let deleteId: number;

  beforeAll(async () => {
    await insertModels(db.pool, ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india']);
    const later: ScoredRow[] = [
      // alpha BTC: a failed prediction exactly one day old (windows are closed at both ends), one at asOf,
      // one after it (ignored).
      { modelId: 'alpha', resolvableAt: at(1), value: 0, success: false },
      { modelId: 'alpha', resolvableAt: at(0.5), value: 3 },
      { modelId: 'alpha', resolvableAt: at(0), value: 2 },
      { modelId: 'alpha', resolvableAt: at(-0.25), value: 100 },
      { modelId: 'alpha', ...ETH_DAY, resolvableAt: at(0.25), value: 4 },
      { modelId: 'bravo', resolvableAt: at(0.5), value: 7 },
      { modelId: 'charlie', resolvableAt: at(0.5), value: 0 },
      // echo first: ties must not depend on write order.
      { modelId: 'echo', resolvableAt: at(0.5), value: -2 },
      { modelId: 'delta', resolvableAt: at(0.5), value: -2 },
      { modelId: 'foxtrot', resolvableAt: at(0.1), value: 9 },
      { modelId: 'hotel', resolvableAt: at(2), value: 3 },
      { modelId: 'india', resolvableAt: at(0.5), value: 1 },
      { modelId: 'india', ...ETH_HOUR, resolvableAt: at(0.2), value: 5 },
    ];
    // Newer rows first, then a settle (a refresh at an earlier instant), then older rows before them:
    // running totals must be recomputed from the earliest row written late.
    await insertScored(db.pool, later);
    await refreshLeaderboard(db.pool, { asOf: at(3), windows, direction: 'higher-is-better' });
    const [rescore] = await insertScored(db.pool, [{ modelId: 'alpha', resolvableAt: at(2), value: 7 }]);
    const [removed] = await insertScored(db.pool, [{ modelId: 'alpha', resolvableAt: at(4), value: 50 }]);
    rescoreId = rescore!;
    deleteId = removed!;
    await insertScored(db.pool, [
      { modelId: 'alpha', resolvableAt: at(8), value: 4 },
      { modelId: 'alpha', resolvableAt: at(6), value: 2 },
      { modelId: 'alpha', ...ETH_DAY, resolvableAt: at(7.5), value: 10 },
      { modelId: 'alpha', ...ETH_DAY, resolvableAt: at(5), value: 6 },
      { modelId: 'bravo', resolvableAt: at(2), value: 5 },
      { modelId: 'charlie', resolvableAt: at(7.5), value: 0 },
      { modelId: 'charlie', resolvableAt: at(3.5), value: 0 },
      { modelId: 'echo', resolvableAt: at(8), value: -1 },
      { modelId: 'delta', resolvableAt: at(8), value: -1 },
      { modelId: 'foxtrot', resolvableAt: at(10), value: 1 },
      { modelId: 'foxtrot', ...ETH_HOUR, resolvableAt: at(9), value: 1 },
      { modelId: 'golf', resolvableAt: at(9), value: 8 },
      { modelId: 'hotel', resolvableAt: at(4), value: 2 },
      { modelId: 'india', resolvableAt: at(8), value: 1 },
      { modelId: 'india', ...ETH_HOUR, resolvableAt: at(1.5), value: 5 },
    ]);
    await refreshLeaderboard(db.pool, { asOf: at(1), windows, direction: 'higher-is-better' });
    // A rescore (7 -> 1) and a deletion in the middle of settled rows.
    expect(await recordScores(db.pool, [{ predictionId: rescoreId, value: 1, success: true, scorer: 'test' }])).toBe(1);
    await db.pool.query(sql.unsafe`DELETE FROM predictions WHERE id = ${deleteId}`);
  });

  it('computes each window, with the null rules, at one instant', async () => {
    const { groups, models } = await readWindowScores(db.pool, { asOf: T, windows });
    const group = (key: string) => groups.find((g) => groupKey(g) === key);
    // alpha BTC: recent [T-1d, T] = 0 (failed), 3, 2; steady adds 1 (rescored); anchor adds 2 (8 days is only the first).
    expect(group('alpha/BTC/3600/60')).toMatchObject({ recent: 5 / 3, steady: 1.5, anchor: 1.6 });
    expect(group('alpha/ETH/86400/300')).toMatchObject({ recent: 4, steady: 4, anchor: 5 });
    // foxtrot's ETH group has nothing in the last 7 days: it is gone, not null.
    expect(group('foxtrot/ETH/3600/60')).toBeUndefined();
    // hotel: old enough for recent but nothing in it -> null; steady from the 2-day-old score; too young for anchor.
    expect(group('hotel/BTC/3600/60')).toMatchObject({ recent: null, steady: 3, anchor: null });
    const model = (id: string) => models.find((m) => m.modelId === id);
    expect(model('alpha')?.recent).toBeCloseTo(17 / 6, 12);
    expect(model('alpha')).toMatchObject({ steady: 2.75, anchor: 3.3 });
    expect(model('bravo')).toEqual({ modelId: 'bravo', recent: 7, steady: null, anchor: null });
    expect(model('charlie')).toEqual({ modelId: 'charlie', recent: 0, steady: 0, anchor: 0 });
    expect(model('foxtrot')).toEqual({ modelId: 'foxtrot', recent: 9, steady: 9, anchor: 9 });
    // india: one group has no anchor (first 1.5 days ago), so the model has none either.
    expect(model('india')).toEqual({ modelId: 'india', recent: 3, steady: null, anchor: null });
    expect(model('golf')).toBeUndefined();
  });

  it('agrees with the lib/game reference at many instants', async () => {
    for (const asOf of [T, at(0.5), at(1), at(2) + 17, at(3.5), at(6), at(-0.3), at(-9)]) {
      await expectSameAsReference(asOf);
    }
    await expectConsistentRunningTotals();
  });

  it('ranks by anchor, steady, recent; nulls last; 0 is a score; ties by model id; both directions', async () => {
    await refreshLeaderboard(db.pool, { asOf: T, windows, direction: 'higher-is-better' });
    const entries = await leaderboardAt(T);
    expect(entries.map((entry) => entry.modelId)).toEqual([
      'foxtrot',
      'alpha',
      'charlie',
      'delta',
      'echo',
      'hotel',
      'bravo',
      'india',
    ]);
    expect(entries.map((entry) => entry.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const reference = modelWindowScores(groupWindowScores(await storedScores(db.pool), T, windows));
    expect(entries.map((entry) => entry.modelId)).toEqual(
      rankModels(reference, 'higher-is-better').map((model) => model.modelId),
    );

    await refreshLeaderboard(db.pool, { asOf: T + 1, windows, direction: 'lower-is-better' });
    const lower = await leaderboardAt(T + 1);
    expect(lower.map((entry) => entry.modelId)).toEqual([
      'delta',
      'echo',
      'charlie',
      'alpha',
      'foxtrot',
      'hotel',
      'india',
      'bravo',
    ]);
  });

  it('writes one snapshot per ranked model with its groups, and re-running the same instant changes nothing', async () => {
    const snapshot = await db.pool.one(sql.type(
      z.object({ recent: z.number().nullable(), anchor: z.number().nullable(), groups: z.unknown() }),
    )`
      SELECT score_recent AS recent, score_anchor AS anchor, groups FROM model_score_snapshots
      WHERE model_id = 'alpha' AND as_of = to_timestamp(${T}::float8)
    `);
    expect(snapshot.anchor).toBeCloseTo(3.3, 12);
    expect(snapshot.groups).toEqual([
      { asset: 'BTC', horizon: 3600, step: 60, recent: expect.closeTo(5 / 3, 12), steady: 1.5, anchor: 1.6 },
      { asset: 'ETH', horizon: 86_400, step: 300, recent: 4, steady: 4, anchor: 5 },
    ]);
    const ofInstant = await db.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT model_id AS id FROM model_score_snapshots WHERE as_of = to_timestamp(${T}::float8) ORDER BY model_id`);
    expect(ofInstant).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'hotel', 'india']);

    const before = await refreshTables();
    const again = await refreshLeaderboard(db.pool, { asOf: T, windows, direction: 'higher-is-better' });
    expect(again).toMatchObject({ models: 8, groups: 10, snapshotsRemoved: 0, leader: 'foxtrot', settled: 0 });
    expect(await refreshTables()).toEqual(before);
  });

  it('recomputes groups from the window on every pass: a vanished group leaves no stale score', async () => {
    // india's ETH group loses its scores; golf gains a current one; then the same instant is refreshed again.
    await db.pool.query(sql.unsafe`
      DELETE FROM predictions WHERE model_id = 'india' AND asset = 'ETH'`);
    await insertScored(db.pool, [{ modelId: 'golf', resolvableAt: at(0.5), value: 2 }]);
    const result = await refreshLeaderboard(db.pool, { asOf: T, windows, direction: 'higher-is-better' });
    expect(result.models).toBe(9);
    const india = await db.pool.one(sql.type(z.object({ anchor: z.number().nullable(), groups: z.unknown() }))`
      SELECT score_anchor AS anchor, groups FROM model_score_snapshots
      WHERE model_id = 'india' AND as_of = to_timestamp(${T}::float8)`);
    expect(india).toEqual({
      anchor: 1,
      groups: [{ asset: 'BTC', horizon: 3600, step: 60, recent: 1, steady: 1, anchor: 1 }],
    });
    await expectSameAsReference(T);

    // Every score of charlie goes: its snapshot at this instant goes too, and it leaves the leaderboard.
    await db.pool.query(sql.unsafe`DELETE FROM predictions WHERE model_id = 'charlie'`);
    const after = await refreshLeaderboard(db.pool, { asOf: T, windows, direction: 'higher-is-better' });
    expect(after).toMatchObject({ models: 8, snapshotsRemoved: 1 });
    expect((await leaderboardAt(T)).map((entry) => entry.modelId)).not.toContain('charlie');
    await expectConsistentRunningTotals();
  });

  it('refuses bad options with a clear message', async () => {
    await expect(readWindowScores(db.pool, { asOf: Number.NaN, windows })).rejects.toThrow(/asOf must be a time/);
    await expect(
      refreshLeaderboard(db.pool, { asOf: T, windows: { ...windows, steady: 0 }, direction: 'higher-is-better' }),
    ).rejects.toThrow(/window steady must be a positive number/);
    await expect(
      refreshLeaderboard(db.pool, { asOf: T, windows, direction: 'sideways' as 'higher-is-better' }),
    ).rejects.toThrow(/direction must be/);
  });
});

describe('random histories written by concurrent writers, rescored and pruned', () => {
  it('stays equal to the reference', async () => {
    const random = mulberry32(20_250_615);
    const models = Array.from({ length: 6 }, (_, i) => `random-${i}`);
    await insertModels(db.pool, models);
    const groups = [
      { asset: 'BTC', horizon: 3600, step: 60 },
      { asset: 'SOL', horizon: 3600, step: 60 },
      { asset: 'XAU', horizon: 86_400, step: 300 },
    ];
    const base = T + 40 * DAY;
    const used = new Set<string>();
    const row = (): ScoredRow => {
      for (;;) {
        const candidate = {
          modelId: models[Math.floor(random() * models.length)]!,
          ...groups[Math.floor(random() * groups.length)]!,
          // Whole seconds over 12 days, some on exact window boundaries.
          resolvableAt:
            random() < 0.1 ? base - [1, 3, 7][Math.floor(random() * 3)]! * DAY : base - Math.floor(random() * 12 * DAY),
          value: Math.round((random() - 0.3) * 1e6) / 1e3,
          success: random() > 0.15,
        };
        // One prediction per (model, group, time), as the predictions table requires.
        const key = `${groupKey(candidate)}/${candidate.resolvableAt}`;
        if (used.has(key)) continue;
        used.add(key);
        return candidate;
      }
    };
    const ids: number[] = [];
    for (let round = 0; round < 4; round++) {
      // Four writers at once, each with its own batch.
      const written = await Promise.all(
        Array.from({ length: 4 }, () => insertScored(db.pool, Array.from({ length: 60 }, row))),
      );
      ids.push(...written.flat());
      const rescored = ids.filter(() => random() < 0.1);
      await recordScores(
        db.pool,
        rescored.map((predictionId) => ({
          predictionId,
          value: Math.round(random() * 1e4) / 100,
          success: true,
          scorer: 'test',
        })),
      );
      const pruned = ids.filter(() => random() < 0.05);
      await db.pool.query(sql.unsafe`DELETE FROM predictions WHERE id = ANY(${sql.array(pruned, 'int8')})`);
      for (const asOf of [base, base - Math.floor(random() * 5 * DAY), base - 7 * DAY]) {
        await expectSameAsReference(asOf);
      }
    }
    await expectConsistentRunningTotals();
  });
});
