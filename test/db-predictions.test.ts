// insertPredictions' fast path: bodies as json parameters, batches split into several statements of
// one transaction, on a real PostgreSQL.
import fc from 'fast-check';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { insertPredictions, type PredictionInput, upsertModels } from '../lib/db/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const inserts: string[] = [];
let db: TestDatabase;
const T0 = 1_750_000_000;
const models = Array.from({ length: 8 }, (_, i) => `m${i}`);

beforeAll(async () => {
  db = await createTestDatabase({
    interceptors: [
      {
        name: 'record-prediction-inserts',
        beforeQueryExecution: (_context, query) => {
          if (query.sql.includes('INSERT INTO predictions')) inserts.push(query.sql);
          return null;
        },
      },
    ],
  });
  await upsertModels(
    db.pool,
    models.map((modelId) => ({ modelId, name: modelId })),
  );
});

afterAll(async () => {
  await db?.drop();
});

const normal = (loc: number, scale: number) => ({
  type: 'mixture',
  components: [{ density: { type: 'builtin', name: 'norm', params: { loc, scale } }, weight: 1 }],
});

const row = (modelId: string, slot: number, overrides: Partial<PredictionInput> = {}): PredictionInput => ({
  modelId,
  deploymentId: `${modelId}_d`,
  asset: 'BTC',
  horizon: 600,
  step: 300,
  status: 'SUCCESS',
  execTimeUs: 10,
  distributions: [normal(slot, 0.5), normal(-slot, 0.25)],
  performedAt: slot + 0.5,
  scheduledAt: slot,
  ...overrides,
});

const stored = z.object({ model: z.string(), status: z.string(), reason: z.string().nullable(), body: z.unknown() });
const storedAt = (slot: number) =>
  db.pool.any(sql.type(stored)`
    SELECT model_id AS model, status, reason, distributions AS body FROM predictions
    WHERE scheduled_at = to_timestamp(${slot}) ORDER BY model_id`);

describe('insertPredictions', () => {
  it('keeps bodies in a json column compressed with lz4 and reads them back as the values given', async () => {
    const column = await db.pool.one(sql.type(z.object({ type: z.string(), compression: z.string() }))`
      SELECT format_type(atttypid, atttypmod) AS type, attcompression::text AS compression
      FROM pg_attribute WHERE attrelid = 'predictions'::regclass AND attname = 'distributions'`);
    expect(column).toEqual({ type: 'json', compression: 'l' });

    const rows = [row('m0', T0), row('m1', T0, { distributions: { not: ['a', 'list'], n: 1.5e-7 } })];
    expect(await insertPredictions(db.pool, rows)).toBe(2);
    expect((await storedAt(T0)).map((r) => r.body)).toEqual(rows.map((r) => r.distributions));
  });

  it('splits a large batch into statements of one transaction and returns how many rows were new', async () => {
    const slot = T0 + 60;
    const rows = models.map((modelId) => row(modelId, slot));
    inserts.length = 0;
    // About one body per statement.
    expect(await insertPredictions(db.pool, rows, { statementChars: 100 })).toBe(models.length);
    expect(inserts).toHaveLength(models.length);
    expect((await storedAt(slot)).map((r) => r.model)).toEqual(models);
    // A retry of the same batch, in other slices, stores nothing twice.
    expect(await insertPredictions(db.pool, rows, { statementChars: 300 })).toBe(0);
    expect(await insertPredictions(db.pool, [...rows, row('m0', slot + 60)], { statementChars: 100 })).toBe(1);
  });

  it('stores all of a split batch or none of it', async () => {
    const slot = T0 + 300;
    // The last statement fails on the foreign key: the statements before it must be rolled back.
    const rows = [...models.slice(0, 4).map((modelId) => row(modelId, slot)), row('nobody', slot)];
    await expect(insertPredictions(db.pool, rows, { statementChars: 100 })).rejects.toThrow(/foreign key/);
    expect(await storedAt(slot)).toEqual([]);
    expect(await insertPredictions(db.pool, rows.slice(0, 4), { statementChars: 100 })).toBe(4);
  });

  it('gives each row its own body however rows with and without bodies fall into statements', async () => {
    let slot = T0 + 3600;
    const statuses = ['SUCCESS', 'FAILED', 'TIMEOUT', 'ABSENT'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...statuses), fc.integer({ min: 1, max: 40 })), {
          minLength: 1,
          maxLength: models.length,
        }),
        fc.integer({ min: 1, max: 3000 }),
        async (shapes, statementChars) => {
          slot += 60;
          const rows = shapes.map(([status, steps], i) =>
            status === 'SUCCESS'
              ? row(models[i]!, slot, { distributions: Array.from({ length: steps }, (_, k) => normal(i, k + 1)) })
              : row(models[i]!, slot, { status, reason: `${status} ${i}`, distributions: undefined }),
          );
          expect(await insertPredictions(db.pool, rows, { statementChars })).toBe(rows.length);
          const back = await storedAt(slot);
          expect(back.map((r) => [r.model, r.status, r.body])).toEqual(
            rows.map((r) => [r.modelId, r.status, r.distributions ?? null]),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stores text PostgreSQL would refuse as jsonb or text instead of failing the whole batch', async () => {
    const slot = T0 + 7200;
    const rows = [
      row('m0', slot, { distributions: [{ ...normal(0, 1), note: 'nul \u0000 and lone \ud800 surrogate' }] }),
      row('m1', slot, { status: 'FAILED', reason: 'the model said \u0000 and \udc00', distributions: undefined }),
    ];
    expect(await insertPredictions(db.pool, rows)).toBe(2);
    const [success, failed] = await storedAt(slot);
    expect(success!.body).toEqual(rows[0]!.distributions);
    expect(failed!.reason).toBe('the model said \ufffd and \ufffd');
  });

  it("stores a caller's JSON text as it is instead of serialising the value again", async () => {
    const slot = T0 + 8000;
    const text = '[{"type": "builtin", "name": "norm", "params": {"loc": 1e-05, "scale": 0.00134}}]';
    const rows = [row('m0', slot, { distributions: JSON.parse(text), distributionsJson: text })];
    expect(await insertPredictions(db.pool, rows)).toBe(1);
    const kept = await db.pool.oneFirst(sql.type(z.object({ text: z.string() }))`
      SELECT distributions::text AS text FROM predictions WHERE scheduled_at = to_timestamp(${slot})`);
    expect(kept).toBe(text);
    await expect(
      insertPredictions(db.pool, [
        row('m1', slot, { status: 'FAILED', distributions: undefined, distributionsJson: '[]' }),
      ]),
    ).rejects.toThrow(/row 0: distributions: only a SUCCESS prediction may carry distributions/);
  });

  it('stores a SUCCESS whose distributions cannot be written as JSON as FAILED with the reason, and the rest of the batch', async () => {
    const slot = T0 + 9000;
    const cyclic: Record<string, unknown> = { type: 'mixture' };
    cyclic.self = cyclic;
    let deep: unknown[] = [];
    for (let depth = 0; depth < 100_000; depth++) deep = [deep];
    const rows = [
      row('m0', slot),
      row('m1', slot, { distributions: [1n] }),
      row('m2', slot, { distributions: [cyclic] }),
      row('m3', slot, { distributions: deep }),
      row('m4', slot, {
        distributions: {
          toJSON: () => {
            throw new Error('no\u0000way');
          },
        },
      }),
      row('m5', slot, { distributions: [normal(1, 2)] }),
    ];
    // One statement per row: the unwritable rows fall in statements of their own and between others.
    expect(await insertPredictions(db.pool, rows, { statementChars: 1 })).toBe(6);
    const stored = await storedAt(slot);
    expect(stored.map(({ model, status }) => [model, status])).toEqual([
      ['m0', 'SUCCESS'],
      ['m1', 'FAILED'],
      ['m2', 'FAILED'],
      ['m3', 'FAILED'],
      ['m4', 'FAILED'],
      ['m5', 'SUCCESS'],
    ]);
    expect(stored[0]!.body).toEqual(rows[0]!.distributions);
    expect(stored[5]!.body).toEqual([normal(1, 2)]);
    expect(stored.slice(1, 5).map((r) => r.body)).toEqual([null, null, null, null]);
    expect(stored[1]!.reason).toMatch(/^distributions cannot be written as JSON: TypeError: .*BigInt/);
    expect(stored[2]!.reason).toMatch(/^distributions cannot be written as JSON: TypeError: .*circular/);
    expect(stored[3]!.reason).toBe(
      'distributions cannot be written as JSON: RangeError: Maximum call stack size exceeded',
    );
    // PostgreSQL text cannot hold U+0000: the reason is cleaned like any other.
    expect(stored[4]!.reason).toBe('distributions cannot be written as JSON: Error: no\ufffdway');
    // A retry meets the same values and skips every row, unwritable ones included.
    expect(await insertPredictions(db.pool, rows, { statementChars: 1 })).toBe(0);
    expect(await storedAt(slot)).toEqual(stored);
  });

  it('still refuses a batch the caller got wrong, storing none of it', async () => {
    await expect(insertPredictions(db.pool, [row('m0', T0 + 9060)], { statementChars: 0 })).rejects.toThrow(
      /statementChars must be positive/,
    );
    await expect(
      insertPredictions(db.pool, [row('m0', T0 + 9060), row('m1', T0 + 9060, { horizon: -1 })]),
    ).rejects.toThrow(/insertPredictions row 1: horizon: /);
    expect(await storedAt(T0 + 9060)).toEqual([]);
  });
});
