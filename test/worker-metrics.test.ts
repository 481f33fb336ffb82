// A worker process started by the CLI with WORKER_METRICS_PORT answers /metrics with the Temporal SDK's
// runtime metrics and the coordinator's own, in one Prometheus text.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freeLoopbackPort } from '../workers/metrics-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTemporalTestEnv } from './support/temporal.js';
import { repoRoot } from './support/tools.js';

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let worker: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  env = await createTemporalTestEnv();
  database = await createTestDatabase();
  await database.pool.query(sql.unsafe`
    INSERT INTO prices (asset, ts, price) SELECT asset, now() - interval '90 seconds', 100
    FROM (SELECT DISTINCT asset FROM prediction_configs) a
  `);
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((done) => worker!.once('exit', done));
    worker.kill('SIGTERM');
    await exited;
  }
  await database?.drop();
  await env?.teardown();
});

it("answers /metrics with the SDK's worker metrics and the coordinator's", async () => {
  const port = await freeLoopbackPort();
  worker = spawn(process.execPath, [resolve(repoRoot, 'bin/coordinator.mjs'), 'worker', '--queue', 'postgres'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      DATABASE_URL: database.url,
      MARKET_DATA: 'synthetic:1',
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (chunk) => (output += chunk));
  worker.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 90_000;
  while (!output.includes('workers running')) {
    if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`the worker did not start:\n${output}`);
    await new Promise((done) => setTimeout(done, 200));
  }
  // The SDK's core exports once its meters have recorded something: poll until the pollers show.
  let text = '';
  while (!/^temporal_/m.test(text) && Date.now() < deadline) {
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (!/^temporal_/m.test(text)) await new Promise((done) => setTimeout(done, 500));
  }
  expect(text, output).toMatch(/^temporal_\w+\{[^}]*task_queue="postgres"[^}]*\} /m);
  expect(text).toMatch(/^temporal_num_pollers\{/m);
  expect(text).toMatch(/^coordinator_event_loop_delay_seconds\{quantile="0.99"\} \d/m);
  const age = /^coordinator_price_feed_age_seconds\{asset="BTC"\} ([\d.]+)$/m.exec(text);
  expect(Number(age?.[1])).toBeGreaterThanOrEqual(90);
  expect(text).toMatch(/^# TYPE coordinator_predictions_total counter$/m);
  expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
});
