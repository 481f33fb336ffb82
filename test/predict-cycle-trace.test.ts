// One predict cycle is one trace: the client's start, the workflow, each activity, the model fan-out and
// the database writes, all under the same trace id and each under its parent (in-memory exporter).
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tracingInterceptor } from '../lib/db/index.js';
import { condor } from '../lib/game/index.js';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import { workerInterceptors } from '../workers/run.js';
import { installTracing, type Tracing } from '../workers/tracing.js';
import type { PredictCycleResult } from '../workflows/index.js';
import { type CycleWorkers, runCycleWorkers } from './support/cycle-workers.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { createTemporalTestEnv } from './support/temporal.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let discovery: TestDiscoveryServer;
let models: ModelRunnerClient;
let workers: CycleWorkers | undefined;

beforeAll(async () => {
  tracing = installTracing({ spanProcessor: new SimpleSpanProcessor(exporter), serviceName: 'trace-test' });
  let port = 0;
  [env, db, discovery] = await Promise.all([
    createTemporalTestEnv(),
    createTestDatabase({ interceptors: [tracingInterceptor()] }),
    TestDiscoveryServer.start(),
    (async () => {
      port = (await startModelProcess({ submission: 'benchmark' })).port;
    })(),
  ]);
  discovery.announce({ modelId: 'benchmark', port, name: 'benchmark', cruncherName: 'alice' });
  await db.pool.query(sql.unsafe`UPDATE prediction_configs SET active = false`);
  await db.pool.query(sql.unsafe`
    INSERT INTO prediction_configs (asset, horizon, step, interval_seconds) VALUES ('BTC', 300, 60, 60)
  `);
  models = new ModelRunnerClient({ discoveryUrl: discovery.url, className: condor.setupClassName });
  await models.start();
  await models.waitForModels(1, 60_000);
  workers = await runCycleWorkers(env, {
    client: models,
    db,
    interceptors: workerInterceptors(undefined, tracing),
    sinks: tracing.sinks,
  });
}, 180_000);

afterAll(async () => {
  await workers?.stop();
  await models?.close();
  await stopAllModelProcesses();
  await discovery?.close();
  await db?.drop();
  await env?.teardown();
  await tracing?.shutdown();
});

it('traces one predict cycle as one trace from its start through activities, model calls and writes', async () => {
  const client = new Client({
    connection: env.connection,
    interceptors: { workflow: tracing.clientWorkflowInterceptors },
  });
  const scheduledSec = Math.floor(Date.now() / 60_000) * 60 - 120;
  const byName = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  const flushed = async (workflowType: string) => {
    // Workflow spans leave the sandbox through a sink after the workflow's last activation.
    const deadline = Date.now() + 30_000;
    while (byName(`RunWorkflow:${workflowType}`).length === 0 && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 200));
    }
  };
  // Prices come in on their own workflow (and trace) before the cycle feeds them to the models.
  await client.workflow.execute('ingestPrices', {
    taskQueue: taskQueues.coordinator,
    workflowId: `traced-prices-${scheduledSec}`,
    args: [{ scheduledAt: new Date(scheduledSec * 1000).toISOString() }],
  });
  await flushed('ingestPrices');
  expect(byName('INSERT prices').length).toBeGreaterThan(0);
  // The ingestion's feed of the models runs on in a child run of its own, in the ingestion's trace: it ends
  // before the cycle's spans are gathered.
  await client.workflow.getHandle(`feed-models-${new Date(scheduledSec * 1000).toISOString()}`).result();
  await flushed('feedModels');
  exporter.reset();

  const result = (await client.workflow.execute('predictCycle', {
    taskQueue: taskQueues.coordinator,
    workflowId: `traced-cycle-${scheduledSec}`,
    args: [{ scheduledAt: new Date(scheduledSec * 1000).toISOString(), periodSec: 60, timeoutMs: 20_000 }],
  })) as PredictCycleResult;
  expect(result.predictionsStored).toBe(1);

  await flushed('predictCycle');
  const [start] = byName('StartWorkflow:predictCycle');
  expect(start, 'the client span').toBeDefined();
  const traceId = start!.spanContext().traceId;
  const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const names = spans.map((span) => span.name);
  for (const name of [
    'RunWorkflow:predictCycle',
    'StartActivity:loadPredictionGroups',
    'RunActivity:loadPredictionGroups',
    'RunActivity:tickModels',
    'tick fan-out',
    'RunActivity:predictShard',
    'predict fan-out',
    'INSERT predictions',
  ]) {
    expect(names, name).toContain(name);
  }
  // Nothing of the cycle went into another trace.
  const activityTraces = new Set(
    exporter
      .getFinishedSpans()
      .filter((span) => span.name.startsWith('RunActivity:'))
      .map((span) => span.spanContext().traceId),
  );
  expect([...activityTraces]).toEqual([traceId]);

  // The prediction write sits under the fan-out, which sits under the predict activity, under the workflow.
  const parentOf = (span: ReadableSpan) => spans.find((s) => s.spanContext().spanId === span.parentSpanId);
  const chain: string[] = [];
  for (let span: ReadableSpan | undefined = byName('INSERT predictions')[0]; span; span = parentOf(span)) {
    chain.push(span.name);
  }
  expect(chain).toEqual(expect.arrayContaining(['INSERT predictions', 'predict fan-out', 'RunActivity:predictShard']));
  expect(chain.at(-1)).toBe('StartWorkflow:predictCycle');
  const fanOut = byName('predict fan-out')[0]!;
  expect(fanOut.attributes['models.called']).toBe(1);
  expect(fanOut.attributes['predictions.success']).toBe(1);
}, 120_000);
