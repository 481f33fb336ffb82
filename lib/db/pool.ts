import { createPool, createTypeParserPreset, type DatabasePool, type Interceptor } from 'slonik';

export type { DatabasePool } from 'slonik';

export interface DatabasePoolOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/coordinator`. The caller (CLI, config) decides the default. */
  connectionString: string;
  /** Most connections held open at once (default 10). */
  maximumPoolSize?: number;
  /** The server aborts a statement after this long (default 60 s; bulk writes of a whole round fit). */
  statementTimeoutMs?: number;
  /** Slonik interceptors, e.g. to count or log queries. */
  interceptors?: readonly Interceptor[];
}

/**
 * int8 as a JavaScript number rather than slonik's default BigInt: ids and counts stay far below 2^53,
 * and numbers survive JSON (Temporal payloads, HTTP) where BigInt throws. A value that would lose
 * precision fails loudly instead of silently rounding.
 */
const int8AsNumber = {
  name: 'int8',
  parse: (value: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed)) throw new RangeError(`int8 value ${value} does not fit a JavaScript number`);
    return parsed;
  },
};

/** A slonik pool. Call `pool.end()` when done. */
export async function createDatabasePool(options: DatabasePoolOptions): Promise<DatabasePool> {
  const typeParsers = [...createTypeParserPreset().filter((parser) => parser.name !== 'int8'), int8AsNumber];
  return createPool(options.connectionString, {
    maximumPoolSize: options.maximumPoolSize ?? 10,
    statementTimeout: options.statementTimeoutMs ?? 60_000,
    interceptors: options.interceptors ?? [],
    typeParsers,
  });
}
