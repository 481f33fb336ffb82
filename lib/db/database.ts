import pg from 'pg';

/** The coordinator's own database on the local server: what the CLI uses when nothing is configured. */
export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/coordinator';

function parseUrl(connectionString: string): URL {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new Error(`"${connectionString}" is not a PostgreSQL connection URL (postgres://user@host:port/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`"${connectionString}" is not a PostgreSQL connection URL: it must start with postgres://`);
  }
  return url;
}

/** The database a connection URL names (empty when it names none, which PostgreSQL reads as the user's). */
export function databaseName(connectionString: string): string {
  return decodeURIComponent(parseUrl(connectionString).pathname.replace(/^\//, ''));
}

/** The same server and credentials, another database. */
export function withDatabase(connectionString: string, database: string): string {
  const url = parseUrl(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Runs `work` on one plain pg connection and always closes it. */
export async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// A concurrent CREATE DATABASE of the same name fails with one of these, depending on timing.
const ALREADY_CREATED = new Set(['42P04', '23505']);

/**
 * Creates the database the URL names when it does not exist yet (connecting to the server's `postgres`
 * maintenance database to do so). Safe when several processes try at once. Returns whether it created it.
 */
export async function ensureDatabase(connectionString: string): Promise<boolean> {
  const name = databaseName(connectionString);
  if (!name) throw new Error(`"${connectionString}" names no database to create`);
  return withClient(withDatabase(connectionString, 'postgres'), async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      if (ALREADY_CREATED.has((error as { code?: string }).code ?? '')) return false;
      throw error;
    }
  });
}
