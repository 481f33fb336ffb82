// The predict cycle survives its infrastructure failing: a model-calls worker process killed in the
// middle of a predict fan-out, and the database connection dropped in the middle of the write.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { type Interceptor, sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executeWorkflow, startWorkflow } from '../cli/workflows.js';
import { withClient } from '../lib/db/database.js';
import { createDatabasePool, type DatabasePool } from '../lib/db/index.js';
import { condor } from '../lib/game/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import { createCoordinatorWorker } from '../workers/coordinator.js';
import { createModelCallsWorker } from '../workers/model-calls.js';
import { createPostgresWorker } from '../workers/postgres.js';
import { createTestDatabase, type TestDatabase, testServerUrl } from './support/database.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { recordHistory } from './support/histories.js';
import { startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { createTemporalTestEnv } from './support/temporal.js';
import { repoRoot } from './support/tools.js';

const row = z.object({ model_id: z.string(), status: z.string(), scheduled_at: z.number() });

describe('predictCycle under failures', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let discovery: TestDiscoveryServer;
  let inProcess: Worker[] = [];
  let running: Promise<void>[] = [];
  const children = new Set<ChildProcess>();
  const childOutput = '';
  const cycleAt = Math.floor(Date.now() / 60_000) * 60 - 120;

  beforeAll(async () => {
    [env, db, discovery] = await Promise.all([
      createTemporalTestEnv(),
      createTestDatabase(),
      TestDiscoveryServer.start(),
    ]);
    const [fast, slow] = await Promise.all([
      startModelProcess({ submission: 'benchmark' }),
      // Each predict takes 6 s: long enough to kill the worker in the middle of it.
      startModelProcess({ submission: 'misbehaving', env: { MISBEHAVE: 'sleep', MISBEHAVE_SLEEP: '6' } }),
    ]);
    discovery.announce({ modelId: 'fast', port: fast.port });
    discovery.announce({ modelId: 'slow', port: slow.port });
    await db.pool.query(sql.unsafe`UPDATE prediction_configs SET active = false`);
    await db.pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds) VALUES ('BTC', 300, 60, 60)
    `);
    const connection = { connection: env.nativeConnection };
    inProcess = await Promise.all([
      createCoordinatorWorker(connection),
      createPostgresWorker({ ...connection, db: db.pool, game: condor, source: new SyntheticSource({ seed: 3 }) }),
    ]);
    running = inProcess.map((worker) => worker.run());
    // The prices the cycles feed: ingested once up to the last slot, as the ingest-prices schedule would.
    await executeWorkflow(env.client, 'ingestPrices', {
      workflowId: 'ingest-prices',
      args: [{ scheduledAt: new Date((cycleAt + 60) * 1000).toISOString() }],
    });
  }, 180_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const worker of inProcess) worker.shutdown();
    await Promise.allSettled(running);
    await stopAllModelProcesses();
    await discovery?.close();
    await db?.drop();
    await env?.teardown();
  });

  /** `coordinator worker --queue model-calls` as its own process, configured like production: by environment. */
  function startModelCallsProcess(): ChildProcess {
    const child = spawn(
      process.execPath,
      [resolve(repoRoot, 'bin/coordinator.mjs'), 'worker', '--queue', 'model-calls'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATABASE_URL: db.url,
          TEMPORAL_ADDRESS: env.address,
          ORCHESTRATOR_URL: discovery.url,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  async function waitForRunningActivity(workflowId: string, activityType: string): Promise<void> {
    const until = Date.now() + 180_000;
    while (Date.now() < until) {
      const description = await env.client.workflow.getHandle(workflowId).describe();
      const pending = description.raw.pendingActivities ?? [];
      if (pending.some((a) => a.activityType?.name === activityType && Number(a.state) === 2 /* STARTED */)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`activity ${activityType} of ${workflowId} never started; worker output:\n${childOutput}`);
  }

  const rowsOf = (pool: DatabasePool, slot: number) =>
    pool.any(sql.type(row)`
      SELECT model_id, status, extract(epoch FROM scheduled_at)::float8 AS scheduled_at
      FROM predictions WHERE scheduled_at = to_timestamp(${slot}) ORDER BY model_id
    `);

  it('completes with no duplicate and no missing row when the model-calls worker is killed mid-fan-out', async () => {
    const first = startModelCallsProcess();
    // Warm-up cycles on earlier slots until the new worker has set up both models (and fed them their
    // history): otherwise the fan-out below could find no model ready and end before it can be killed.
    for (let attempt = 1; ; attempt++) {
      const warmUp = await executeWorkflow(env.client, 'predictCycle', {
        workflowId: `warm-up-${attempt}`,
        args: [
          { scheduledAt: new Date((cycleAt - 60 * attempt) * 1000).toISOString(), periodSec: 60, timeoutMs: 30_000 },
        ],
      });
      if (warmUp.byStatus.SUCCESS === 2) break;
      if (attempt === 30) throw new Error(`the worker never got both models ready; worker output:\n${childOutput}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const handle = await startWorkflow(env.client, 'predictCycle', {
      workflowId: 'killed-worker-cycle',
      args: [{ scheduledAt: new Date(cycleAt * 1000).toISOString(), periodSec: 60, timeoutMs: 30_000 }],
    });
    await waitForRunningActivity(handle.workflowId, 'predictShard');
    first.kill('SIGKILL');
    startModelCallsProcess();
    const result = await handle.result();
    expect(result.byStatus).toEqual({ SUCCESS: 2, FAILED: 0, TIMEOUT: 0, ABSENT: 0 });
    const rows = await rowsOf(db.pool, cycleAt);
    expect(rows.map((r) => [r.model_id, r.status])).toEqual([
      ['fast', 'SUCCESS'],
      ['slow', 'SUCCESS'],
    ]);
    recordHistory(env.address, handle.workflowId, 'predict-cycle-killed-worker');
    const history = await handle.fetchHistory();
    const attempts = history.events?.filter((event) => event.activityTaskStartedEventAttributes?.attempt === 2);
    expect(attempts?.length).toBeGreaterThan(0); // the fan-out really was retried
  }, 300_000);

  it('retries the write when the database connection drops in the middle of it, losing nothing', async () => {
    for (const child of children) child.kill('SIGKILL');
    let dropped = 0;
    let terminated = 0;
    // Terminates every connection of the test database the first time a prediction insert starts.
    const dropOnce: Interceptor = {
      name: 'drop-connections-once',
      beforeQueryExecution: async (_context, query) => {
        if (dropped === 0 && query.sql.includes('INSERT INTO predictions')) {
          dropped++;
          const killed = await withClient(testServerUrl, (admin) =>
            admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]),
          );
          terminated = killed.rowCount ?? 0;
        }
        return null;
      },
    };
    const pool = await createDatabasePool({ connectionString: db.url, interceptors: [dropOnce] });
    const client = new ModelRunnerClient({ discoveryUrl: discovery.url, className: condor.setupClassName });
    await client.start();
    await client.waitForModels(2, 60_000);
    const worker = await createModelCallsWorker({ connection: env.nativeConnection, client, db: pool, game: condor });
    const slot = cycleAt + 60;
    try {
      const result = await worker.runUntil(
        executeWorkflow(env.client, 'predictCycle', {
          workflowId: 'dropped-connection-cycle',
          args: [{ scheduledAt: new Date(slot * 1000).toISOString(), periodSec: 60, timeoutMs: 30_000 }],
        }),
      );
      expect(dropped).toBe(1);
      expect(terminated).toBeGreaterThan(0);
      expect(result.predictionsStored).toBe(2);
      const rows = await rowsOf(db.pool, slot);
      expect(rows.map((r) => [r.model_id, r.status])).toEqual([
        ['fast', 'SUCCESS'],
        ['slow', 'SUCCESS'],
      ]);
    } finally {
      await client.close();
      await pool.end();
    }
  }, 300_000);
});
