import { randomBytes } from 'node:crypto';
import { sql } from 'slonik';
import { withClient, withDatabase } from '../../lib/db/database.js';
import { createDatabasePool, type DatabasePool, insertPrices, migrate } from '../../lib/db/index.js';
import type { Logger } from '../../lib/log/index.js';
import type { PriceSource } from '../../lib/market-data/index.js';

export interface BenchDatabase {
  url: string;
  pool: DatabasePool;
  drop(): Promise<void>;
}

/** The one prediction config of the bench: a 24 h forecast in 5-minute steps (288), due every cycle. */
export const benchConfig = { asset: 'BTC', horizon: 86_400, step: 300, intervalSec: 60 } as const;

/**
 * A fresh, migrated database on the local server with only the bench's prediction config active and
 * `historySec` of prices before `fromSec`, so a new model's full-history tick stays small.
 */
export async function createBenchDatabase(options: {
  source: PriceSource;
  fromSec: number;
  historySec: number;
  logger: Logger;
  /** The server to make it on (default DATABASE_URL's, else the local one). */
  serverUrl?: string;
}): Promise<BenchDatabase> {
  const server = withDatabase(
    options.serverUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    'postgres',
  );
  const name = `bench_predict_cycle_${randomBytes(4).toString('hex')}`;
  await withClient(server, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = withDatabase(server, name);
  const drop = () =>
    withClient(server, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
    ).then(() => undefined);
  let pool: DatabasePool | undefined;
  try {
    await migrate({ connectionString: url, logger: options.logger });
    pool = await createDatabasePool({ connectionString: url });
    await pool.query(sql.unsafe`DELETE FROM prediction_configs`);
    await pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds)
      VALUES (${benchConfig.asset}, ${benchConfig.horizon}, ${benchConfig.step}, ${benchConfig.intervalSec})
    `);
    const points = await options.source.fetch(benchConfig.asset, options.fromSec - options.historySec, options.fromSec);
    await insertPrices(
      pool,
      points.map((point) => ({ asset: benchConfig.asset, ts: point.ts, price: point.price })),
    );
    const opened = pool;
    return {
      url,
      pool: opened,
      drop: async () => {
        await opened.end();
        await drop();
      },
    };
  } catch (error) {
    await pool?.end();
    await drop();
    throw error;
  }
}
