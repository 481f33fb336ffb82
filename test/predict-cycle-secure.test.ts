// The predict cycle end to end in secure mode: the model-calls worker's client reaches the models
// through secure test nodes (mutual TLS, signed identity checked on every call; test/support/
// secure-fleet.ts) in front of real model-runner processes, and the predictions are stored.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executeWorkflow } from '../cli/workflows.js';
import { condor } from '../lib/game/index.js';
import { loadModelCredentials, ModelRunnerClient } from '../lib/model-runner/index.js';
import { type CycleWorkers, runCycleWorkers } from './support/cycle-workers.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { type ModelProcess, startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { SecureFleet, type TestNode } from './support/secure-fleet.js';
import { createTemporalTestEnv } from './support/temporal.js';

const storedPrediction = z.object({
  model_id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  steps_answered: z.number().nullable(),
});

describe('predictCycle in secure mode', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let discovery: TestDiscoveryServer;
  let fleet: SecureFleet;
  let client: ModelRunnerClient;
  let workers: CycleWorkers | undefined;
  let model: ModelProcess;
  const firstCycle = Math.floor(Date.now() / 60_000) * 60 - 120;

  beforeAll(async () => {
    fleet = new SecureFleet();
    [env, db, discovery, model] = await Promise.all([
      createTemporalTestEnv(),
      createTestDatabase(),
      TestDiscoveryServer.start(),
      startModelProcess({ submission: 'benchmark' }),
    ]);
    const announce = (node: TestNode) =>
      discovery.announce({
        modelId: node.modelId,
        port: node.node.port,
        walletPubkey: node.wallet,
        hotkey: node.hotkey,
      });
    announce(await fleet.secureNode('good', 'benchmark', model.port));
    // A node whose identity is signed by another cruncher's wallet: reported, never called.
    announce(await fleet.secureNode('other-wallet', 'impostor', model.port));

    await db.pool.query(sql.unsafe`UPDATE prediction_configs SET active = false`);
    await db.pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds) VALUES ('BTC', 300, 60, 60)
    `);
    client = new ModelRunnerClient({
      discoveryUrl: discovery.url,
      className: condor.setupClassName,
      credentials: loadModelCredentials({ secureCertDir: fleet.secureDir }),
      connectBackoffMs: [500],
      channelReadyTimeoutMs: 5_000,
    });
    await client.start();
    await client.waitForModels(1, 60_000);
    await discovery.waitForReports(1, 30_000);

    workers = await runCycleWorkers(env, { client, db });
  }, 180_000);

  afterAll(async () => {
    await workers?.stop();
    await client?.close();
    await fleet?.close();
    await stopAllModelProcesses();
    await discovery?.close();
    await db?.drop();
    await env?.teardown();
  });

  it('stores the answers of the model behind the good node; the impostor is reported and never asked', async () => {
    expect(discovery.reports.map((report) => [report.model_id, report.failure_code])).toEqual([
      ['impostor', 'CONNECTION_FAILED'],
    ]);
    // Prices come in on their own workflow (the ingest-prices schedule), before the cycles feed them.
    await executeWorkflow(env.client, 'ingestPrices', {
      workflowId: 'secure-ingest-prices',
      args: [{ scheduledAt: new Date((firstCycle + 60) * 1000).toISOString() }],
    });
    for (let i = 0; i < 2; i++) {
      await executeWorkflow(env.client, 'predictCycle', {
        workflowId: `secure-cycle-${i}`,
        args: [{ scheduledAt: new Date((firstCycle + 60 * i) * 1000).toISOString(), periodSec: 60, timeoutMs: 20_000 }],
      });
    }
    const rows = await db.pool.any(sql.type(storedPrediction)`
      SELECT model_id, status, reason, json_array_length(distributions::json) AS steps_answered
      FROM predictions ORDER BY scheduled_at, model_id
    `);
    expect(rows.map((row) => [row.model_id, row.status, row.steps_answered, row.reason])).toEqual([
      ['benchmark', 'SUCCESS', 5, null],
      ['benchmark', 'SUCCESS', 5, null],
    ]);
  }, 120_000);
});
