import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseName, ensureDatabase, withClient, withDatabase } from '../lib/db/database.js';
import { defaultMigrationsDirectory, migrate, readMigrations } from '../lib/db/migrations.js';
import { createTestDatabase, type TestDatabase, testServerUrl } from './support/database.js';

/** Tables, columns, indexes and constraints of the public schema, as comparable text. */
async function schemaOf(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const columns = await client.query(`
      SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
             coalesce(column_default, '') AS line
      FROM information_schema.columns WHERE table_schema = 'public'`);
    const indexes = await client.query(`SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public'`);
    const constraints = await client.query(`
      SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace`);
    return [...columns.rows, ...indexes.rows, ...constraints.rows].map((row: { line: string }) => row.line).sort();
  });
}

const databases: TestDatabase[] = [];
async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrate: false });
  databases.push(database);
  return database;
}

let reference: string[];
let directory: string;

beforeAll(async () => {
  const migrated = await createTestDatabase();
  databases.push(migrated);
  reference = await schemaOf(migrated.url);
  directory = await mkdtemp(join(tmpdir(), 'migrations-'));
});

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  await rm(directory, { recursive: true, force: true });
});

describe('the migration runner', () => {
  it('applies every migration once; a second run is a no-op with the same schema', async () => {
    const { url } = await emptyDatabase();
    const all = (await readMigrations()).map((migration) => migration.name);
    expect(all.length).toBeGreaterThanOrEqual(3);

    const first = await migrate({ connectionString: url });
    expect(first).toEqual({ applied: all, alreadyApplied: [] });
    const second = await migrate({ connectionString: url });
    expect(second).toEqual({ applied: [], alreadyApplied: all });
    expect(await schemaOf(url)).toEqual(reference);
  });

  it('lets two runners race on one database: one applies, the other waits and finds it done', async () => {
    const { url } = await emptyDatabase();
    const all = (await readMigrations()).map((migration) => migration.name);
    const results = await Promise.all([migrate({ connectionString: url }), migrate({ connectionString: url })]);
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, all.length]);
    expect(await schemaOf(url)).toEqual(reference);
    const recorded = await withClient(url, (client) =>
      client.query('SELECT count(*)::int AS n FROM schema_migrations'),
    );
    expect(recorded.rows[0]).toEqual({ n: all.length });
  });

  it('seeds the Condor prediction configs', async () => {
    const rows = await withClient(databases[0]!.url, (client) =>
      client.query('SELECT asset, horizon, step, interval_seconds, active FROM prediction_configs ORDER BY id'),
    );
    expect(rows.rows).toHaveLength(8);
    for (const asset of ['BTC', 'ETH', 'XAU', 'SOL']) {
      expect(rows.rows).toContainEqual({ asset, horizon: 86400, step: 300, interval_seconds: 3600, active: true });
      expect(rows.rows).toContainEqual({ asset, horizon: 3600, step: 60, interval_seconds: 720, active: true });
    }
  });

  it('refuses a migration edited after it was applied', async () => {
    const { url } = await emptyDatabase();
    const edited = join(directory, 'edited');
    await cp(defaultMigrationsDirectory, edited, { recursive: true });
    await migrate({ connectionString: url, directory: edited });
    await writeFile(join(edited, '003_payloads.sql'), '-- changed\nCREATE TABLE payloads_2 (key text);\n');
    await expect(migrate({ connectionString: url, directory: edited })).rejects.toThrow(
      /003_payloads differs from the 003_payloads applied.*add a new numbered one/,
    );
  });

  it('rolls the whole run back when a migration fails, naming it', async () => {
    const { url } = await emptyDatabase();
    const broken = join(directory, 'broken');
    await cp(defaultMigrationsDirectory, broken, { recursive: true });
    await writeFile(join(broken, '004_broken.sql'), 'CREATE TABLE fine (id int);\nSELECT * FROM no_such_table;\n');
    await expect(migrate({ connectionString: url, directory: broken })).rejects.toThrow(
      /migration 004_broken failed: relation "no_such_table" does not exist/,
    );
    const tables = await withClient(url, (client) =>
      client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`),
    );
    expect(tables.rows[0]).toEqual({ n: 0 });
  });

  it('rejects a misnamed or duplicate-numbered migration file with a clear message', async () => {
    const misnamed = join(directory, 'misnamed');
    await cp(defaultMigrationsDirectory, misnamed, { recursive: true });
    await writeFile(join(misnamed, '4-oops.sql'), 'SELECT 1;');
    await expect(readMigrations(misnamed)).rejects.toThrow(/4-oops.sql .* must be named NNN_lowercase_words.sql/);

    const duplicate = join(directory, 'duplicate');
    await cp(defaultMigrationsDirectory, duplicate, { recursive: true });
    await writeFile(join(duplicate, '003_again.sql'), 'SELECT 1;');
    await expect(readMigrations(duplicate)).rejects.toThrow(
      /003_again.*003_payloads.*share the number 003|003_payloads.*003_again.*share/,
    );
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once, even when asked twice at the same time', async () => {
    const url = withDatabase(testServerUrl, `test_ensure_${process.pid}`);
    try {
      const created = await Promise.all([ensureDatabase(url), ensureDatabase(url)]);
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await ensureDatabase(url)).toBe(false);
    } finally {
      await withClient(testServerUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(databaseName(url))} WITH (FORCE)`),
      );
    }
  });

  it('explains a URL that is not a PostgreSQL one', async () => {
    await expect(ensureDatabase('mysql://localhost/x')).rejects.toThrow(/must start with postgres:\/\//);
    await expect(ensureDatabase('not a url')).rejects.toThrow(/is not a PostgreSQL connection URL/);
  });
});
