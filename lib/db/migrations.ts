import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../log/index.js';
import { withClient } from './database.js';

/** The repository's sql/ folder. */
export const defaultMigrationsDirectory = resolve(import.meta.dirname, '..', '..', 'sql');

// Any fixed key works as long as every runner uses the same one; this one spells "crunchdb".
const MIGRATION_LOCK_KEY = '7165919074074518626';

export interface Migration {
  /** e.g. `001_models_prices_predictions` */
  name: string;
  version: number;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  connectionString: string;
  /** Folder of `NNN_name.sql` files (default: the repository's sql/). */
  directory?: string;
  logger?: Logger;
}

export interface MigrateResult {
  /** Migrations this run applied, in order. */
  applied: string[];
  /** Migrations that were already in place. */
  alreadyApplied: string[];
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Reads and checks the migration files: numbered NNN_name.sql, no number used twice. */
export async function readMigrations(directory: string = defaultMigrationsDirectory): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) {
      throw new Error(
        `migration file ${file} in ${directory} must be named NNN_lowercase_words.sql (e.g. 004_add_x.sql)`,
      );
    }
    const version = Number(match[1]);
    const previous = migrations.at(-1);
    if (previous && previous.version === version) {
      throw new Error(`migrations ${previous.name} and ${file} share the number ${match[1]}`);
    }
    const sql = await readFile(join(directory, file), 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ name: file.replace(/\.sql$/, ''), version, sql, checksum });
  }
  return migrations;
}

/**
 * Brings a database up to date: applies the migrations it lacks, in order, in one transaction that
 * first takes a transaction-scoped advisory lock. A concurrent runner waits for the lock, then finds
 * everything applied; a failing migration rolls the whole run back. Running it twice is a no-op.
 * A migration edited after it was applied is refused (its checksum no longer matches).
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const logger = options.logger ?? createLogger('db');
  const migrations = await readMigrations(options.directory);
  // A plain pg connection rather than slonik: migration files hold many statements, which only the
  // simple query protocol runs in one call, and the transaction must stay on this one connection.
  return withClient(options.connectionString, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const done = await client.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const appliedByVersion = new Map(done.rows.map((row) => [row.version, row]));
      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const applied = appliedByVersion.get(migration.version);
        if (applied) {
          if (applied.checksum !== migration.checksum || applied.name !== migration.name) {
            throw new Error(
              `migration ${migration.name} differs from the ${applied.name} applied to this database; ` +
                'never edit an applied migration, add a new numbered one instead',
            );
          }
          result.alreadyApplied.push(migration.name);
          continue;
        }
        try {
          await client.query(migration.sql);
        } catch (error) {
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          migration.checksum,
        ]);
        result.applied.push(migration.name);
        logger.info({ migration: migration.name }, `applied database migration ${migration.name}`);
      }
      const known = new Set(migrations.map((migration) => migration.version));
      const unknown = [...appliedByVersion.values()].filter((row) => !known.has(row.version));
      if (unknown.length > 0) {
        logger.warn(
          { unknown: unknown.map((row) => row.name) },
          'the database has migrations this code does not know: it was migrated by a newer version',
        );
      }
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
