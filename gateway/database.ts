import { type CommonQueryMethods, type DatabasePool, sql } from 'slonik';
import { createDatabasePool } from '../lib/db/index.js';

/** How the gateway reaches PostgreSQL: every query it runs goes through `read`, never writes. */
export interface ReadOnlyDatabase {
  /** Runs `work` where the server refuses writes and aborts statements after the timeout. */
  read<T>(work: (db: CommonQueryMethods) => Promise<T>): Promise<T>;
  /** Ends the pool if the gateway opened it (a pool it was given stays the owner's). */
  close(): Promise<void>;
  /** Whether the gateway opened the pool (from a connection string) and so owns it. */
  readonly owned: boolean;
}

export interface ReadOnlyDatabaseOptions {
  statementTimeoutMs: number;
  maximumPoolSize: number;
}

/**
 * Adds `-c default_transaction_read_only=on` to the URL's `options` (kept if it has some), so every
 * transaction of every connection of the pool is read-only on the server side: a bug here can never
 * write, and no extra round trip per query is spent on it.
 */
export function readOnlyConnectionString(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new Error(`"${connectionString}" is not a PostgreSQL connection URL (postgres://user@host:port/database)`);
  }
  const existing = url.searchParams.get('options');
  const readOnly = '-c default_transaction_read_only=on';
  url.searchParams.set('options', existing ? `${existing} ${readOnly}` : readOnly);
  return url.toString();
}

/**
 * A pool opened on first use and again after a failed attempt (slonik connects when a pool is created), so
 * the gateway starts while PostgreSQL is down, answers 503 meanwhile, and recovers by itself.
 */
function lazyPool(options: { connectionString: string; statementTimeoutMs: number; maximumPoolSize: number }) {
  let pool: Promise<DatabasePool> | undefined;
  return {
    opened: (): Promise<DatabasePool> => {
      pool ??= createDatabasePool(options).catch((error: unknown) => {
        pool = undefined;
        throw error;
      });
      return pool;
    },
    close: async (): Promise<void> => {
      const current = pool;
      pool = undefined;
      await (await current?.catch(() => undefined))?.end();
    },
  };
}

/**
 * A connection string: the gateway opens its own pool whose connections are read-only with the given
 * statement timeout. A slonik pool (e.g. shared with other code in the process): each request runs in a
 * transaction made read-only, with the timeout set for that transaction only.
 */
export async function openReadOnlyDatabase(
  db: DatabasePool | string,
  options: ReadOnlyDatabaseOptions,
): Promise<ReadOnlyDatabase> {
  if (typeof db === 'string') {
    const connectionString = readOnlyConnectionString(db);
    const pool = lazyPool({
      connectionString,
      statementTimeoutMs: options.statementTimeoutMs,
      maximumPoolSize: options.maximumPoolSize,
    });
    return { owned: true, read: async (work) => work(await pool.opened()), close: pool.close };
  }
  const timeout = String(Math.round(options.statementTimeoutMs));
  return {
    owned: false,
    read: (work) =>
      db.transaction(async (transaction) => {
        await transaction.query(sql.unsafe`
          SELECT set_config('transaction_read_only', 'on', true), set_config('statement_timeout', ${timeout}, true)
        `);
        return work(transaction);
      }),
    close: async () => {},
  };
}

/** The few writes the gateway makes (a checkpoint's confirmation and status, which the platform sends). */
export interface WritableDatabase {
  write<T>(work: (db: CommonQueryMethods) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A connection string: a pool of two ordinary connections, opened on first use (most gateways never
 * write). A slonik pool: used as it is, each write in its own transaction with the statement timeout.
 */
export function openWritableDatabase(
  db: DatabasePool | string,
  options: { statementTimeoutMs: number },
): WritableDatabase {
  if (typeof db === 'string') {
    const pool = lazyPool({ connectionString: db, statementTimeoutMs: options.statementTimeoutMs, maximumPoolSize: 2 });
    return { write: async (work) => work(await pool.opened()), close: pool.close };
  }
  const timeout = String(Math.round(options.statementTimeoutMs));
  return {
    write: (work) =>
      db.transaction(async (transaction) => {
        await transaction.query(sql.unsafe`SELECT set_config('statement_timeout', ${timeout}, true)`);
        return work(transaction);
      }),
    close: async () => {},
  };
}
