import type { Command } from 'commander';
import { databaseName, defaultDatabaseUrl, ensureDatabase, migrate } from '../../lib/db/index.js';
import { createLogger } from '../../lib/log/index.js';
import { redact } from '../options.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('bring the database schema up to date (safe to run twice or from several processes at once)')
    .option(
      '--database-url <url>',
      `PostgreSQL connection URL (default: DATABASE_URL, else ${defaultDatabaseUrl}, created if missing)`,
    )
    .action(async (options: { databaseUrl?: string }) => {
      const url = options.databaseUrl ?? process.env.DATABASE_URL ?? defaultDatabaseUrl;
      // The summary below is printed for people; the logger only adds warnings.
      const logger = createLogger('migrate').child({}, { level: 'warn' });
      try {
        // Only our own default database is created on the fly; a configured one is the operator's to make.
        if (url === defaultDatabaseUrl && (await ensureDatabase(url))) {
          console.log(`created database ${databaseName(url)}`);
        }
        const result = await migrate({ connectionString: url, logger });
        for (const name of result.applied) console.log(`applied ${name}`);
        console.log(
          result.applied.length === 0
            ? `${redact(url)} is up to date (${result.alreadyApplied.length} migrations)`
            : `${redact(url)}: applied ${result.applied.length} migration(s), ${result.alreadyApplied.length} were already in place`,
        );
      } catch (error) {
        console.error(`migrate failed for ${redact(url)}: ${(error as Error).message}`);
        process.exitCode = 1;
      }
    });
}
