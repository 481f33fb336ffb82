import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  activePredictionConfigs,
  applyRetention,
  expectedModels,
  forgetFeed,
  insertPredictions,
  insertPrices,
  latestPriceTs,
  markFullHistorySent,
  type PredictionInput,
  pricesBetween,
  recordDeployments,
  recordScores,
  scorablePredictions,
  setExpectedToRun,
  upsertModels,
} from '../lib/db/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

// Every statement the pool runs, so a test can assert that a bulk write was one statement.
const statements: string[] = [];
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({
    interceptors: [
      {
        name: 'record-statements',
        beforeQueryExecution: (_context, query) => {
          statements.push(query.sql);
          return null;
        },
      },
    ],
  });
});

afterAll(async () => {
  await db?.drop();
});

const count = (table: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM ${sql.identifier([table])}`);

const T0 = 1_750_000_000; // a whole minute

describe('models and deployments', () => {
  it('upserts models: inserts new ones, refreshes known ones, keeps expected_to_run unless given', async () => {
    expect(
      await upsertModels(
        db.pool,
        [
          { modelId: 'm1', name: 'benchmark', cruncherId: 'c1', cruncherName: 'alice' },
          { modelId: 'm2', name: 'mixture', expectedToRun: false },
          { modelId: 'm3', name: 'other' },
        ],
        T0,
      ),
    ).toBe(3);
    // A later sighting renames m1 and does not say whether m2 runs: its flag stays false.
    await upsertModels(
      db.pool,
      [
        { modelId: 'm1', name: 'benchmark v2' },
        { modelId: 'm2', name: 'mixture' },
      ],
      T0 + 60,
    );
    const models = await expectedModels(db.pool);
    expect(models.map((model) => [model.modelId, model.name, model.cruncherName])).toEqual([
      ['m1', 'benchmark v2', null],
      ['m3', 'other', null],
    ]);
    expect(await setExpectedToRun(db.pool, ['m2', 'm3'], true)).toBe(1);
    expect((await expectedModels(db.pool)).map((model) => model.modelId)).toEqual(['m1', 'm2', 'm3']);
    const firstSeen = await db.pool.oneFirst(sql.type(z.object({ s: z.number() }))`
      SELECT extract(epoch FROM first_seen_at)::float8 AS s FROM models WHERE model_id = 'm1'`);
    expect(firstSeen).toBe(T0);
  });

  it('records deployments, reports which still need full history, and marks it sent', async () => {
    const first = await recordDeployments(
      db.pool,
      [
        { deploymentId: 'd1', modelId: 'm1', ip: '127.0.0.1', port: 50051, state: 'RUNNING' },
        { deploymentId: 'd2', modelId: 'm2', ip: '127.0.0.1', port: 50052, state: 'RUNNING' },
      ],
      T0,
    );
    expect(first.map((row) => [row.deploymentId, row.fullHistorySentAt])).toEqual([
      ['d1', null],
      ['d2', null],
    ]);
    expect(await markFullHistorySent(db.pool, ['d1'], T0 + 5)).toBe(1);
    // m1 redeployed: the new deployment needs history again, the old one keeps its stamp.
    const second = await recordDeployments(
      db.pool,
      [
        { deploymentId: 'd1', modelId: 'm1', ip: '127.0.0.1', port: 50051, state: 'STOPPED' },
        { deploymentId: 'd3', modelId: 'm1', ip: '127.0.0.1', port: 50053, state: 'RUNNING' },
      ],
      T0 + 60,
    );
    expect(second).toEqual([
      { deploymentId: 'd1', modelId: 'm1', state: 'STOPPED', fullHistorySentAt: T0 + 5 },
      { deploymentId: 'd3', modelId: 'm1', state: 'RUNNING', fullHistorySentAt: null },
    ]);
    const latest = Object.fromEntries(
      (await expectedModels(db.pool)).map((model) => [model.modelId, model.deploymentId]),
    );
    expect(latest).toEqual({ m1: 'd3', m2: 'd2', m3: null });
    expect(await forgetFeed(db.pool, ['d1', 'd3'])).toBe(1);
  });

  it('rejects bad rows with a message naming the row and field', async () => {
    await expect(upsertModels(db.pool, [{ modelId: 'm9', name: '' }])).rejects.toThrow(/upsertModels row 0: name/);
    await expect(
      recordDeployments(db.pool, [{ deploymentId: 'd9', modelId: 'm1', port: 70000, state: 'RUNNING' }]),
    ).rejects.toThrow(/recordDeployments row 0: port/);
    await expect(markFullHistorySent(db.pool, ['d1'], Number.NaN)).rejects.toThrow(/at must be a time in unix seconds/);
  });
});

describe('prices', () => {
  const minutes = (from: number, n: number, asset = 'BTC') =>
    Array.from({ length: n }, (_, i) => ({ asset, ts: T0 + (from + i) * 60, price: 100_000 + from + i }));

  it('stores prices idempotently and counts only the new ones', async () => {
    expect(await latestPriceTs(db.pool, 'BTC')).toBeNull();
    expect(await insertPrices(db.pool, minutes(0, 100), 'test')).toBe(100);
    expect(await insertPrices(db.pool, minutes(50, 100), 'test')).toBe(50);
    expect(await insertPrices(db.pool, minutes(0, 150), 'test')).toBe(0);
    // Duplicates inside one batch are not an error either.
    expect(await insertPrices(db.pool, [...minutes(150, 2), ...minutes(150, 2)], 'test')).toBe(2);
    expect(await count('prices')).toBe(152);
    expect(await latestPriceTs(db.pool, 'BTC')).toBe(T0 + 151 * 60);
  });

  it('keeps the first value stored for a minute', async () => {
    await insertPrices(db.pool, [{ asset: 'BTC', ts: T0, price: 1 }], 'test');
    expect(await pricesBetween(db.pool, 'BTC', T0, T0)).toEqual([{ ts: T0, price: 100_000 }]);
  });

  it('returns a range, inclusive and oldest first, per asset', async () => {
    await insertPrices(db.pool, minutes(0, 3, 'ETH'), 'test');
    const range = await pricesBetween(db.pool, 'BTC', T0 + 60, T0 + 180);
    expect(range.map((point) => point.ts)).toEqual([T0 + 60, T0 + 120, T0 + 180]);
    expect(await pricesBetween(db.pool, 'ETH', T0 - 600, T0 + 6000)).toHaveLength(3);
  });

  it('rejects a non-finite or non-positive price', async () => {
    await expect(insertPrices(db.pool, [{ asset: 'BTC', ts: T0, price: Number.NaN }], 'test')).rejects.toThrow(
      /insertPrices row 0: price/,
    );
    await expect(insertPrices(db.pool, [{ asset: 'BTC', ts: T0, price: -1 }], 'test')).rejects.toThrow(/row 0: price/);
  });
});

describe('predictions', () => {
  const density = {
    type: 'mixture',
    components: [{ density: { type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.001 } }, weight: 1 }],
  };
  const success = (overrides: Partial<PredictionInput> = {}): PredictionInput => ({
    modelId: 'm1',
    deploymentId: 'd3',
    asset: 'BTC',
    horizon: 3600,
    step: 60,
    status: 'SUCCESS',
    execTimeUs: 1234,
    distributions: Array.from({ length: 60 }, () => density),
    performedAt: T0 + 0.25,
    scheduledAt: T0,
    ...overrides,
  });

  it('serves the active prediction configs in their round-robin order', async () => {
    const configs = await activePredictionConfigs(db.pool);
    expect(configs.filter((config) => config.horizon === 3600).map((config) => config.asset)).toEqual([
      'BTC',
      'ETH',
      'XAU',
      'SOL',
    ]);
    expect(configs.find((config) => config.horizon === 86400)).toMatchObject({ step: 300, interval: 3600 });
  });

  it('stores a prediction once: a retried write of the same call or the same cycle is skipped', async () => {
    expect(await insertPredictions(db.pool, [success()])).toBe(1);
    expect(await insertPredictions(db.pool, [success()])).toBe(0);
    // The same cycle retried: the call was made again, so performed_at differs, but scheduled_at does not.
    expect(await insertPredictions(db.pool, [success({ performedAt: T0 + 3 })])).toBe(0);
    expect(await insertPredictions(db.pool, [success({ asset: 'ETH' })])).toBe(1);
    const stored = await db.pool.one(sql.type(
      z.object({ resolvable: z.number(), performed: z.number(), steps: z.number() }),
    )`
      SELECT extract(epoch FROM resolvable_at)::float8 AS resolvable, extract(epoch FROM performed_at)::float8 AS performed,
             json_array_length(distributions) AS steps
      FROM predictions WHERE model_id = 'm1' AND asset = 'BTC'`);
    expect(stored).toEqual({ performed: T0 + 0.25, resolvable: T0 + 0.25 + 3600, steps: 60 });
  });

  it('refuses a duplicate through the unique key itself, not only through the insert function', async () => {
    await expect(
      db.pool.query(sql.unsafe`
        INSERT INTO predictions (model_id, asset, horizon, step, status, performed_at, resolvable_at)
        VALUES ('m1', 'BTC', 3600, 60, 'FAILED', to_timestamp(${T0 + 0.25}), to_timestamp(${T0 + 3600.25}))`),
    ).rejects.toThrow(/unique/i);
  });

  it('keeps distributions only on SUCCESS rows and stores ABSENT rows without a deployment', async () => {
    await expect(
      insertPredictions(db.pool, [success({ status: 'FAILED', scheduledAt: T0 + 60, performedAt: T0 + 60 })]),
    ).rejects.toThrow(/only a SUCCESS prediction may carry distributions/);
    const absent: PredictionInput = {
      modelId: 'm2',
      asset: 'BTC',
      horizon: 3600,
      step: 60,
      status: 'ABSENT',
      reason: 'model not connected',
      performedAt: T0,
      scheduledAt: T0,
    };
    expect(await insertPredictions(db.pool, [absent])).toBe(1);
    // A model that answered JSON null is a SUCCESS whose body is not a list: the scorer fails it later.
    expect(await insertPredictions(db.pool, [success({ modelId: 'm3', distributions: null })])).toBe(1);
    const bodies = await db.pool.any(sql.type(z.object({ model: z.string(), kind: z.string().nullable() }))`
      SELECT model_id AS model, json_typeof(distributions) AS kind FROM predictions
      WHERE asset = 'BTC' AND model_id IN ('m2', 'm3') ORDER BY model_id`);
    expect(bodies).toEqual([
      { model: 'm2', kind: null },
      { model: 'm3', kind: 'null' },
    ]);
  });

  it('writes 10,000 predictions in two statements of one transaction and skips all of them on a retry', async () => {
    const models = Array.from({ length: 100 }, (_, i) => ({ modelId: `bulk-${i}`, name: `bulk ${i}` }));
    await upsertModels(db.pool, models);
    const rows: PredictionInput[] = [];
    for (const { modelId } of models) {
      for (let cycle = 0; cycle < 100; cycle += 1) {
        const at = T0 + 86_400 + cycle * 180;
        rows.push(
          success({ modelId, deploymentId: null, performedAt: at + 0.5, scheduledAt: at, distributions: [density] }),
        );
      }
    }
    const before = await count('predictions');
    statements.length = 0;
    expect(await insertPredictions(db.pool, rows)).toBe(10_000);
    expect(statements).toHaveLength(2);
    expect(await count('predictions')).toBe(before + 10_000);
    statements.length = 0;
    expect(await insertPredictions(db.pool, rows)).toBe(0);
    expect(statements).toHaveLength(2);
  });
});

describe('scores', () => {
  it('lists only unscored predictions whose prices cover resolvable_at, and rescoring replaces', async () => {
    // BTC prices reach T0 + 151 min; the 1 h predictions at T0 resolve at T0 + 60 min: scorable.
    const scorable = await scorablePredictions(db.pool, { limit: 1000 });
    expect(scorable.length).toBeGreaterThan(0);
    expect(scorable.every((row) => row.asset === 'BTC' && row.resolvableAt <= T0 + 151 * 60)).toBe(true);
    expect(scorable.map((row) => row.modelId).sort()).toEqual(['m1', 'm2', 'm3']);
    // ETH prices stop at T0 + 2 min, so the ETH prediction waits.
    expect(scorable.some((row) => row.asset === 'ETH')).toBe(false);
    expect(await scorablePredictions(db.pool, { limit: 2 })).toHaveLength(2);

    const [first] = scorable;
    const base = { predictionId: first!.id, scorer: 'test', scoredAt: T0 + 7200 };
    expect(await recordScores(db.pool, [{ ...base, value: 1.5, success: true }])).toBe(1);
    expect(await recordScores(db.pool, [{ ...base, value: 0, success: false, failedReason: 'rescored' }])).toBe(1);
    const stored = await db.pool.one(sql.type(z.object({ value: z.number(), failed_reason: z.string().nullable() }))`
      SELECT value, failed_reason FROM scores WHERE prediction_id = ${first!.id}`);
    expect(stored).toEqual({ value: 0, failed_reason: 'rescored' });
    expect(await count('scores')).toBe(1);
    const left = await scorablePredictions(db.pool, { limit: 1000 });
    expect(left.map((row) => row.id)).not.toContain(first!.id);
    expect(left).toHaveLength(scorable.length - 1);
  });

  it('ignores scores for predictions that no longer exist', async () => {
    expect(await recordScores(db.pool, [{ predictionId: 999_999_999, value: 1, success: true, scorer: 'test' }])).toBe(
      0,
    );
  });
});

describe('retention', () => {
  it('deletes what each table no longer needs, in batches, keeping the latest leaderboard', async () => {
    const now = T0 + 40 * 86_400;
    await db.pool.query(sql.unsafe`
      INSERT INTO leaderboards (as_of, created_at) VALUES
        (to_timestamp(${T0}), to_timestamp(${T0})), (to_timestamp(${T0 + 60}), to_timestamp(${T0 + 60}))`);
    await db.pool.query(sql.unsafe`
      INSERT INTO payloads (key, bytes, created_at) VALUES ('old', '\\x00', to_timestamp(${T0})), ('new', '\\x01', to_timestamp(${now}))`);
    await db.pool.query(sql.unsafe`
      INSERT INTO model_score_snapshots (model_id, as_of) VALUES ('m1', to_timestamp(${T0})), ('m1', to_timestamp(${now - 86_400}))`);
    const predictionsBefore = await count('predictions');
    const scored = await count('scores');

    const deleted = await applyRetention(db.pool, { now, batchSize: 1000 });
    // Prices are all 40 days old (> 35); every prediction resolved > 35 days ago is gone, scored or not.
    expect(deleted).toEqual({
      predictions: predictionsBefore,
      prices: 152 + 3,
      modelScoreSnapshots: 1,
      leaderboards: 1,
      payloads: 1,
      deployments: 3,
    });
    expect(await count('scores')).toBe(scored - 1);
    expect(await count('leaderboards')).toBe(1);
    expect(await count('payloads')).toBe(1);
    expect(await count('models')).toBeGreaterThan(0);
    expect(await applyRetention(db.pool, { now })).toEqual({
      predictions: 0,
      prices: 0,
      modelScoreSnapshots: 0,
      leaderboards: 0,
      payloads: 0,
      deployments: 0,
    });
  });

  it('keeps scored predictions younger than the policy', async () => {
    await insertPredictions(db.pool, [
      { modelId: 'm1', asset: 'SOL', horizon: 3600, step: 60, status: 'TIMEOUT', performedAt: T0, scheduledAt: T0 },
    ]);
    await insertPrices(db.pool, [{ asset: 'SOL', ts: T0 + 3600, price: 150 }], 'test');
    const [pending] = await scorablePredictions(db.pool, { limit: 10 });
    await recordScores(db.pool, [
      { predictionId: pending!.id, value: 0, success: false, scorer: 'test', scoredAt: T0 + 3600 },
    ]);
    const now = T0 + 3600 + 29 * 86_400;
    expect((await applyRetention(db.pool, { now })).predictions).toBe(0);
    expect((await applyRetention(db.pool, { now: now + 2 * 86_400 })).predictions).toBe(1);
    await expect(applyRetention(db.pool, { policy: { pricesDays: 0 } })).rejects.toThrow(
      /pricesDays must be a positive/,
    );
  });
});
