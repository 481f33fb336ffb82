// `coordinator gateway` as an operator runs it: a real process on a real PostgreSQL, /healthz checking a
// real Temporal dev server, clean exit on SIGTERM and SIGINT.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReports } from './support/seed-reports.js';
import { createTemporalTestEnv } from './support/temporal.js';
import { repoRoot } from './support/tools.js';

const coordinator = resolve(repoRoot, 'bin', 'coordinator.mjs');
let db: TestDatabase;
let temporal: TestWorkflowEnvironment;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [db, temporal] = await Promise.all([createTestDatabase(), createTemporalTestEnv()]);
  await seedReports(db.pool, { models: 3, predictionModels: 1, predictionDays: 1, snapshotDays: 1 });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await temporal?.teardown();
  await db?.drop();
});

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Starts the command and waits for the line that says where it listens. */
function startGateway(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [coordinator, 'gateway', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((ready, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+) \(API docs at \1\/docs\)/.exec(stdout);
      if (match) ready({ child, url: match[1]!, stdout: () => stdout, exited });
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    void exited.then((code) => fail(new Error(`gateway exited with ${code} before listening: ${stdout}${stderr}`)));
  });
}

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('coordinator gateway', () => {
  it('serves reports, says the database and Temporal are up, and closes cleanly on SIGTERM', async () => {
    const gateway = await startGateway([
      '--port',
      '0',
      '--database-url',
      db.url,
      '--temporal-address',
      temporal.address,
    ]);
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      database: { status: 'up', read_only: true },
      temporal: { status: 'up' },
    });
    const leaderboard = await fetch(`${gateway.url}/reports/leaderboard`);
    expect(((await leaderboard.json()) as unknown[]).length).toBe(3);
    expect((await fetch(`${gateway.url}/docs/json`)).status).toBe(200);
    // The printed URL names no password, and says what it reads.
    expect(gateway.stdout()).toContain(`reading ${db.url}`);

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(gateway.stdout()).toContain('report gateway closed');
  });

  it('takes DATABASE_URL, reports an unreachable Temporal in /healthz (503), and stops on SIGINT', async () => {
    const gateway = await startGateway(['--port', '0', '--temporal-address', `127.0.0.1:${await closedPort()}`], {
      DATABASE_URL: db.url,
    });
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: 'unavailable',
      database: { status: 'up' },
      temporal: { status: 'down', error: expect.any(String) },
    });
    // Reports do not depend on Temporal.
    expect((await fetch(`${gateway.url}/reports/models`)).status).toBe(200);
    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toBe(0);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const first = await startGateway(['--port', '0', '--database-url', db.url, '--no-temporal']);
    const port = new URL(first.url).port;
    const second = spawn(process.execPath, [coordinator, 'gateway', '--port', port, '--database-url', db.url], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(second);
    let stderr = '';
    second.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const code = await new Promise((done) => second.on('exit', done));
    expect(code).toBe(1);
    expect(stderr).toContain(`gateway could not start`);
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is taken`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
