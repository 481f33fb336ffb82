import { randomBytes } from 'node:crypto';
import type { Interceptor } from 'slonik';
import { withClient, withDatabase } from '../../lib/db/database.js';
import { migrate } from '../../lib/db/migrations.js';
import { createDatabasePool, type DatabasePool } from '../../lib/db/pool.js';

/** The server tests use: DATABASE_URL's server if set (as `npm test`'s set-up does), else the local one. */
export const testServerUrl = withDatabase(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  'postgres',
);

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  url: string;
  name: string;
  /** A slonik pool on it (ended by drop()). */
  pool: DatabasePool;
  /** Ends the pool and drops the database. */
  drop: () => Promise<void>;
}

export interface TestDatabaseOptions {
  /** Leave the database empty (no migrations), e.g. to test the migration runner itself. */
  migrate?: boolean;
  interceptors?: readonly Interceptor[];
}

/** A fresh, uniquely named database, migrated unless asked otherwise. Each test file makes its own. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(testServerUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = withDatabase(testServerUrl, name);
  const drop = async () => {
    await withClient(testServerUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
    );
  };
  try {
    if (options.migrate !== false) await migrate({ connectionString: url });
    const pool = await createDatabasePool({ connectionString: url, interceptors: options.interceptors ?? [] });
    return {
      url,
      name,
      pool,
      drop: async () => {
        await pool.end();
        await drop();
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}
