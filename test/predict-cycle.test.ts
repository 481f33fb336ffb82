// The predict cycle end to end: a real Temporal dev server, a real PostgreSQL database and real
// model-runner processes serving the example trackers, with the three workers in this process.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executeWorkflow } from '../cli/workflows.js';
import { condor } from '../lib/game/index.js';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import type { PredictCycleResult } from '../workflows/index.js';
import { type CycleWorkers, runCycleWorkers } from './support/cycle-workers.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { recordHistory } from './support/histories.js';
import { freePort, type ModelProcess, startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { createTemporalTestEnv } from './support/temporal.js';

const storedPrediction = z.object({
  model_id: z.string(),
  deployment_id: z.string().nullable(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  status: z.string(),
  reason: z.string().nullable(),
  exec_time_us: z.number().nullable(),
  steps_answered: z.number().nullable(),
  performed_at: z.number(),
  resolvable_at: z.number(),
  scheduled_at: z.number(),
});

describe('predictCycle', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let discovery: TestDiscoveryServer;
  let client: ModelRunnerClient;
  let workers: CycleWorkers | undefined;
  const models: ModelProcess[] = [];
  // Whole minutes in the past, so the synthetic source has their prices.
  const firstCycle = Math.floor(Date.now() / 60_000) * 60 - 180;

  beforeAll(async () => {
    [env, db, discovery] = await Promise.all([
      createTemporalTestEnv(),
      createTestDatabase(),
      TestDiscoveryServer.start(),
      (async () => {
        models.push(await startModelProcess({ submission: 'benchmark' }));
        models.push(await startModelProcess({ submission: 'misbehaving', env: { MISBEHAVE: 'garbage' } }));
      })(),
    ]);
    discovery.announce({ modelId: 'benchmark', port: models[0]!.port, name: 'benchmark', cruncherName: 'alice' });
    discovery.announce({ modelId: 'garbage', port: models[1]!.port, name: 'garbage', cruncherName: 'bob' });
    // Announced as running but nothing answers there: expected, so it gets ABSENT rows.
    discovery.announce({ modelId: 'unreachable', port: await freePort(), name: 'unreachable', cruncherName: 'carol' });

    // Two assets taking turns every 60 s, 5-minute horizon in 1-minute steps: one prediction per cycle.
    await db.pool.query(sql.unsafe`UPDATE prediction_configs SET active = false`);
    await db.pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds)
      VALUES ('BTC', 300, 60, 120), ('ETH', 300, 60, 120)
    `);

    client = new ModelRunnerClient({
      discoveryUrl: discovery.url,
      className: condor.setupClassName,
      connectAttempts: 1000,
      connectBackoffMs: [500],
      channelReadyTimeoutMs: 500,
    });
    await client.start();
    await client.waitForModels(2, 60_000);

    workers = await runCycleWorkers(env, { client, db });
  }, 180_000);

  afterAll(async () => {
    await workers?.stop();
    await client?.close();
    await stopAllModelProcesses();
    await discovery?.close();
    await db?.drop();
    await env?.teardown();
  });

  const runCycle = (scheduledSec: number, workflowId: string) =>
    executeWorkflow(env.client, 'predictCycle', {
      workflowId,
      args: [{ scheduledAt: new Date(scheduledSec * 1000).toISOString(), periodSec: 60, timeoutMs: 20_000 }],
    });

  const storedRows = async () =>
    db.pool.any(sql.type(storedPrediction)`
      SELECT model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
             json_array_length(distributions::json) AS steps_answered,
             extract(epoch FROM performed_at)::float8 AS performed_at,
             extract(epoch FROM resolvable_at)::float8 AS resolvable_at,
             extract(epoch FROM scheduled_at)::float8 AS scheduled_at
      FROM predictions ORDER BY scheduled_at, model_id
    `);

  it('stores one row per expected model and slot over several cycles, with the right statuses and times', async () => {
    // Prices come in on their own workflow (the ingest-prices schedule), before the cycles feed them.
    const prices = await executeWorkflow(env.client, 'ingestPrices', {
      workflowId: 'ingest-prices',
      args: [{ scheduledAt: new Date((firstCycle + 120) * 1000).toISOString() }],
    });
    expect(prices.pricesStored).toBeGreaterThan(2 * 29 * 24 * 60); // 30 days of minutes for 2 assets
    expect(prices.latest).toEqual({ BTC: firstCycle + 120, ETH: firstCycle + 120 });
    recordHistory(env.address, 'ingest-prices', 'ingest-prices');
    const startedAt = Date.now() / 1000;
    const results: PredictCycleResult[] = [];
    for (let i = 0; i < 3; i++) results.push(await runCycle(firstCycle + 60 * i, `cycle-${i}`));
    const finishedAt = Date.now() / 1000;

    expect(results.map((r) => r.due)).toEqual([1, 1, 1]);
    const rows = await storedRows();
    expect(rows).toHaveLength(9);
    for (let i = 0; i < 3; i++) {
      const slot = firstCycle + 60 * i;
      const ofSlot = rows.filter((row) => row.scheduled_at === slot);
      // Slots alternate between the two assets: slot k of the group asks assets[k mod 2].
      const asset = ['BTC', 'ETH'][(slot / 60) % 2];
      expect(ofSlot.map((row) => [row.model_id, row.status, row.asset])).toEqual([
        ['benchmark', 'SUCCESS', asset],
        ['garbage', 'FAILED', asset],
        ['unreachable', 'ABSENT', asset],
      ]);
      for (const row of ofSlot) {
        expect(row.performed_at).toBeGreaterThanOrEqual(startedAt);
        expect(row.performed_at).toBeLessThanOrEqual(finishedAt);
        expect(row.resolvable_at).toBeCloseTo(row.performed_at + 300, 5);
      }
      const [success, failed, absent] = ofSlot;
      expect(success!.steps_answered).toBe(5);
      expect(success!.exec_time_us).toBeGreaterThan(0);
      expect(failed!.reason).toMatch(/list/i);
      expect(failed!.exec_time_us).toBeGreaterThan(0);
      expect(absent!.exec_time_us).toBeNull();
      expect(absent!.reason).toMatch(/not connected/);
    }
    const histories = await db.pool.any(sql.type(z.object({ model_id: z.string(), sent: z.boolean() }))`
      SELECT model_id, full_history_sent_at IS NOT NULL AS sent FROM deployments ORDER BY model_id
    `);
    expect(histories).toEqual([
      { model_id: 'benchmark', sent: true },
      { model_id: 'garbage', sent: true },
      { model_id: 'unreachable', sent: false },
    ]);

    recordHistory(env.address, 'cycle-0', 'predict-cycle-first');
    recordHistory(env.address, 'cycle-2', 'predict-cycle');
    const description = await env.client.workflow.getHandle('cycle-2').describe();
    expect(description.typedSearchAttributes.get({ name: 'ModelsCalled', type: 'INT' })).toBe(2);
    expect(description.typedSearchAttributes.get({ name: 'PredictionFailures', type: 'INT' })).toBe(2);
  });

  it('stores nothing twice when the same cycle runs again', async () => {
    const before = await storedRows();
    const again = await runCycle(firstCycle + 60, 'cycle-1-again');
    expect(again.predictionsStored).toBe(0);
    expect(again.byStatus.SUCCESS).toBe(1);
    expect(await storedRows()).toEqual(before);
  });
});
