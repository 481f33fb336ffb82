// The OpenAPI document tells the truth: schemathesis generates requests from /docs/json, valid and
// invalid, sends them to the gateway on a seeded database and checks every answer against the document
// with all its checks (status codes, schemas, content types, 405s for other methods, rejection of
// invalid input, acceptance of valid input, no 5xx).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReports } from './support/seed-reports.js';
import { repoRoot, schemathesis } from './support/tools.js';

const run = promisify(execFile);

let database: TestDatabase;
let gateway: Gateway;
let baseUrl: string;
const workDir = mkdtempSync(join(tmpdir(), 'schemathesis-'));

beforeAll(async () => {
  database = await createTestDatabase();
  await seedReports(database.pool, { models: 6, predictionModels: 2, predictionDays: 1, snapshotDays: 2 });
  // As the CLI serves it: rate limited (a 429 is documented and may well come), CORS on.
  gateway = await buildGateway({ db: database.url });
  baseUrl = await gateway.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
  rmSync(workDir, { recursive: true, force: true });
});

it('schemathesis with all checks finds nothing in the gateway against its own OpenAPI document', async () => {
  const args = [
    '--config-file',
    resolve(repoRoot, 'test', 'support', 'schemathesis.toml'),
    'run',
    `${baseUrl}/docs/json`,
    '--checks',
    'all',
    '--max-examples',
    '60',
    '--seed',
    '16',
    '--workers',
    '2',
    '--request-timeout',
    '30',
    '--no-color',
  ];
  let output: string;
  let failed = false;
  try {
    output = (await run(schemathesis(), args, { cwd: workDir, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 })).stdout;
  } catch (error) {
    failed = true;
    output = `${(error as { stdout?: string }).stdout ?? ''}\n${(error as Error).message}`;
  }
  expect(failed, output.slice(-20_000)).toBe(false);
  expect(output).toMatch(/No issues found/);
  // Every documented operation was exercised, not a subset.
  expect(output).toMatch(/Tested: 10\b/);
}, 660_000);
