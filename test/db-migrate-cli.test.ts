import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../lib/db/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { repoRoot } from './support/tools.js';

const run = promisify(execFile);
const coordinator = resolve(repoRoot, 'bin', 'coordinator.mjs');

async function migrateCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [coordinator, 'migrate', ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

describe('coordinator migrate', () => {
  it('prints what it applied, then that the database is up to date', async () => {
    const count = (await readMigrations()).length;
    const first = await migrateCli(['--database-url', db.url]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 001_models_prices_predictions$/m);
    expect(first.stdout).toContain(`applied ${count} migration(s), 0 were already in place`);
    // DATABASE_URL is read when no flag is given.
    const second = await migrateCli([], { DATABASE_URL: db.url });
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(`${db.url} is up to date (${count} migrations)`);
  });

  it('fails with exit code 1 and a readable reason when it cannot connect', async () => {
    const failed = await migrateCli(['--database-url', 'postgres://postgres:secret@127.0.0.1:1/none']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^migrate failed for postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/m,
    );
  });
});
