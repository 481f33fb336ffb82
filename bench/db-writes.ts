// Set-based writes against the baseline they replace: one INSERT per row, as a naive activity would do.
// `npm run bench -- db-writes [--rows N]` (default 2,000 predictions of 100 models, with and without bodies).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { withClient, withDatabase } from '../lib/db/database.js';
import {
  createDatabasePool,
  insertPredictions,
  insertPrices,
  migrate,
  type PredictionInput,
  upsertModels,
} from '../lib/db/index.js';
import { createLogger } from '../lib/log/index.js';

const density = {
  type: 'mixture',
  components: [{ density: { type: 'builtin', name: 'norm', params: { loc: 0.000012, scale: 0.000734 } }, weight: 1 }],
};

/** `count` predictions of 100 models; with bodies (60 densities, ~8 KB each) or as ABSENT rows. */
function predictions(count: number, start: number, withBodies: boolean): PredictionInput[] {
  return Array.from({ length: count }, (_, i) => ({
    modelId: `model-${i % 100}`,
    asset: 'BTC',
    horizon: 3600,
    step: 60,
    ...(withBodies
      ? { status: 'SUCCESS' as const, execTimeUs: 1500, distributions: Array.from({ length: 60 }, () => density) }
      : { status: 'ABSENT' as const, reason: 'model not connected' }),
    performedAt: start + Math.floor(i / 100) * 180 + 0.125,
    scheduledAt: start + Math.floor(i / 100) * 180,
  }));
}

async function timed<T>(what: string, work: () => Promise<T>): Promise<[T, number]> {
  const begin = performance.now();
  const result = await work();
  const ms = performance.now() - begin;
  console.error(`  ${what}: ${ms.toFixed(0)} ms`);
  return [result, ms];
}

export default async function dbWrites(args: string[]): Promise<Record<string, unknown>> {
  const rowsFlag = args.indexOf('--rows');
  const rows = rowsFlag >= 0 ? Number(args[rowsFlag + 1]) : 2_000;
  if (!(Number.isInteger(rows) && rows > 0)) throw new Error('--rows must be a positive whole number');
  const server = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const name = `bench_db_writes_${randomBytes(4).toString('hex')}`;
  await withClient(server, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = withDatabase(server, name);
  const pool = await createDatabasePool({ connectionString: url });
  try {
    console.error(`db-writes: ${rows} predictions into a fresh database ${name}`);
    await migrate({ connectionString: url, logger: createLogger('bench').child({}, { level: 'warn' }) });
    await upsertModels(
      pool,
      Array.from({ length: 100 }, (_, i) => ({ modelId: `model-${i}`, name: `model ${i}` })),
    );
    const T0 = 1_750_000_020;
    const figures: Record<string, number> = { rows };
    let offset = 0;
    for (const [label, withBodies] of [
      ['withBodies', true],
      ['absent', false],
    ] as const) {
      console.error(`${rows} predictions, ${withBodies ? 'SUCCESS with 60 densities each' : 'ABSENT rows'}:`);
      const [, rowByRowMs] = await timed('row by row (baseline)', async () => {
        for (const row of predictions(rows, T0 + offset++ * 30 * 86_400, withBodies)) {
          await insertPredictions(pool, [row]);
        }
      });
      const batch = predictions(rows, T0 + offset++ * 30 * 86_400, withBodies);
      const [inserted, setBasedMs] = await timed('one statement', () => insertPredictions(pool, batch));
      if (inserted !== rows) throw new Error(`expected ${rows} new predictions, got ${inserted}`);
      const [again, retryMs] = await timed('the same batch again (a retried activity)', () =>
        insertPredictions(pool, batch),
      );
      if (again !== 0) throw new Error(`a retry stored ${again} duplicates`);
      figures[`${label}RowByRowMs`] = Math.round(rowByRowMs);
      figures[`${label}SetBasedMs`] = Math.round(setBasedMs);
      figures[`${label}Speedup`] = Number((rowByRowMs / setBasedMs).toFixed(1));
      figures[`${label}RetryVsFirstWrite`] = Number((retryMs / setBasedMs).toFixed(2));
    }

    // 30 days of minutes for 4 assets: what a cold start stores.
    const minutes = 30 * 1440;
    const prices = ['BTC', 'ETH', 'SOL', 'XAU'].flatMap((asset) =>
      Array.from({ length: minutes }, (_, i) => ({ asset, ts: T0 + i * 60, price: 100 + i / 1e3 })),
    );
    const [, pricesMs] = await timed(`${prices.length} prices in one statement`, () =>
      insertPrices(pool, prices, 'bench'),
    );
    const [, pricesAgainMs] = await timed('the same prices again', () => insertPrices(pool, prices, 'bench'));

    return {
      ...figures,
      prices: prices.length,
      pricesPerSecond: Math.round(prices.length / (pricesMs / 1000)),
      pricesRetryVsFirstWrite: Number((pricesAgainMs / pricesMs).toFixed(2)),
    };
  } finally {
    await pool.end();
    await withClient(server, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
    );
  }
}
