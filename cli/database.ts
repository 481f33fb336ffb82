// Which PostgreSQL `coordinator start` uses: DATABASE_URL, else the machine's server, else an embedded one.
import { join } from 'node:path';
import pg from 'pg';
import { defaultDatabaseUrl, ensureDatabase, startEmbeddedPostgres, withDatabase } from '../lib/db/index.js';
import type { Logger } from '../lib/log/index.js';
import { redact } from './options.js';

export interface ChosenDatabase {
  /** The coordinator database's URL. */
  url: string;
  /** Where it comes from, in the words the start-up log uses. */
  source: 'DATABASE_URL' | 'local server' | 'embedded';
  stop(): Promise<void>;
}

/** True when the server of `url` takes a connection and a query within a few seconds. */
export async function answers(url: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * DATABASE_URL when set; else the local server on 127.0.0.1:5432 when it answers (npm's set-up starts an
 * installed one that is down); else a PostgreSQL of our own from the npm package, its data in
 * `<dataDir>/postgres`, started and stopped with the stack. A server that is installed but cannot be
 * reached counts as none.
 */
export async function chooseDatabase(
  databaseUrl: string | undefined,
  dataDir: string,
  logger: Logger,
): Promise<ChosenDatabase> {
  const none = async () => {};
  if (databaseUrl) {
    logger.info({ database: redact(databaseUrl) }, `database: DATABASE_URL (${redact(databaseUrl)})`);
    return { url: databaseUrl, source: 'DATABASE_URL', stop: none };
  }
  if (await answers(withDatabase(defaultDatabaseUrl, 'postgres'))) {
    logger.info({ database: defaultDatabaseUrl }, `database: the local PostgreSQL server (${defaultDatabaseUrl})`);
    return { url: defaultDatabaseUrl, source: 'local server', stop: none };
  }
  logger.info(
    'no PostgreSQL answers on 127.0.0.1:5432 and DATABASE_URL is unset: starting an embedded PostgreSQL ' +
      `(data in ${join(dataDir, 'postgres')})`,
  );
  const server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), logger });
  const url = withDatabase(server.url, 'coordinator');
  try {
    await ensureDatabase(url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  logger.info(
    { database: redact(url), version: server.version },
    `database: embedded PostgreSQL ${server.version} on 127.0.0.1:${server.port} (${redact(url)})`,
  );
  return { url, source: 'embedded', stop: () => server.stop() };
}
