// Slot pacing on real parts: a Temporal dev server, PostgreSQL and model-runner processes. A predictSlots
// run paces a short window of two-second slots and starts one predictSlot run per slot; a sleeping model
// beside an honest one times out on its own rows and never delays the next slot; a second pacing run over
// the same window starts nothing twice.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executeWorkflow } from '../cli/workflows.js';
import { condor } from '../lib/game/index.js';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import { SLOT_LEAD_SEC } from '../lib/schedule/index.js';
import type { FeedModelsResult, PredictSlotResult } from '../workflows/index.js';
import { type CycleWorkers, runCycleWorkers } from './support/cycle-workers.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { recordHistory } from './support/histories.js';
import { startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { createTemporalTestEnv } from './support/temporal.js';

const row = z.object({
  model_id: z.string(),
  asset: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  scheduled_at: z.number(),
  performed_at: z.number(),
});

describe('predictSlots', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let discovery: TestDiscoveryServer;
  let client: ModelRunnerClient;
  let workers: CycleWorkers;

  beforeAll(async () => {
    [env, db, discovery] = await Promise.all([
      createTemporalTestEnv(),
      createTestDatabase(),
      TestDiscoveryServer.start(),
    ]);
    const [honest, sleeper] = await Promise.all([
      startModelProcess({ submission: 'benchmark' }),
      // Each predict sleeps 20 s: far past the 1.5 s deadline, and still asleep at the next slots.
      startModelProcess({ submission: 'misbehaving', env: { MISBEHAVE: 'sleep', MISBEHAVE_SLEEP: '20' } }),
    ]);
    discovery.announce({ modelId: 'honest', port: honest.port });
    discovery.announce({ modelId: 'sleeper', port: sleeper.port });
    // Two assets taking turns, one every 2 s: a grid no predict cycle of whole periods could follow.
    await db.pool.query(sql.unsafe`UPDATE prediction_configs SET active = false`);
    await db.pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds)
      VALUES ('BTC', 300, 60, 4), ('ETH', 300, 60, 4)
    `);
    // The sleeper is never reported for its timeouts here: every slot must still give it its row.
    client = new ModelRunnerClient({
      discoveryUrl: discovery.url,
      className: condor.setupClassName,
      maxConsecutiveTimeouts: 1000,
    });
    await client.start();
    await client.waitForModels(2, 60_000);
    workers = await runCycleWorkers(env, { client, db });
    // Prices, as the ingest-prices schedule stores them, and the models' feed that each ingestion starts.
    const ingested = await executeWorkflow(env.client, 'ingestPrices', { workflowId: 'ingest-prices', args: [{}] });
    const fed: FeedModelsResult = await env.client.workflow.getHandle(`feed-models-${ingested.scheduledAt}`).result();
    expect(fed).toMatchObject({ ticked: 2, fullHistory: 2, failedCount: 0 });
    recordHistory(env.address, `feed-models-${ingested.scheduledAt}`, 'feed-models');
  }, 180_000);

  afterAll(async () => {
    await workers?.stop();
    await client?.close();
    await stopAllModelProcesses();
    await discovery?.close();
    await db?.drop();
    await env?.teardown();
  });

  it('asks each slot at its instant in a run of its own, the sleeper timing out on its own rows only', async () => {
    // The next whole window of 20 s at least 5 s away (ten slots), its run started 2 s ahead as the
    // schedule does (SLOT_LEAD_SEC).
    const windowSec = 20;
    const window = { windowSec, timeoutMs: 1_500 };
    const fromSec = Math.ceil((Date.now() / 1000 + 5) / windowSec) * windowSec;
    const toSec = fromSec + windowSec;
    const pace = (workflowId: string) =>
      executeWorkflow(env.client, 'predictSlots', {
        workflowId,
        args: [{ ...window, scheduledAt: new Date((fromSec - SLOT_LEAD_SEC) * 1000).toISOString() }],
      });
    const paced = await pace('pace-window');
    const expectedSlots: number[] = [];
    for (let t = Math.ceil(fromSec / 2) * 2; t < toSec; t += 2) expectedSlots.push(t);
    expect(paced).toMatchObject({ started: expectedSlots.length, alreadyStarted: 0, late: 0 });

    // Every slot run is its own workflow, named by its instant; wait for the last one.
    const lastId = `predict-slot-${new Date(expectedSlots.at(-1)! * 1000).toISOString()}`;
    const last: PredictSlotResult = await env.client.workflow.getHandle(lastId).result();
    expect(last.byStatus).toEqual({ SUCCESS: 1, FAILED: 0, TIMEOUT: 1, ABSENT: 0 });

    const rows = await db.pool.any(sql.type(row)`
      SELECT model_id, asset, status, reason,
             extract(epoch FROM scheduled_at)::float8 AS scheduled_at,
             extract(epoch FROM performed_at)::float8 AS performed_at
      FROM predictions WHERE scheduled_at >= to_timestamp(${fromSec}) ORDER BY scheduled_at, model_id
    `);
    const honestRows = rows.filter((r) => r.model_id === 'honest');
    expect(honestRows.map((r) => [r.scheduled_at, r.status])).toEqual(expectedSlots.map((t) => [t, 'SUCCESS']));
    expect(honestRows.map((r) => r.asset)).toEqual(expectedSlots.map((t) => ['BTC', 'ETH'][(t / 2) % 2]));
    // Asked at the instant (the run started ahead, its activity waited for the instant), not a period
    // later: a generous bound for a loaded machine (a slot that waited for the previous one's 1.5 s
    // timeout would show).
    for (const r of honestRows) expect(r.performed_at - r.scheduled_at).toBeLessThan(1.5);
    const sleeperRows = rows.filter((r) => r.model_id === 'sleeper');
    expect(sleeperRows.map((r) => r.scheduled_at)).toEqual(expectedSlots);
    for (const r of sleeperRows) {
      expect(r.status).toBe('TIMEOUT');
      expect(r.reason).toBeTruthy();
    }
    recordHistory(env.address, 'pace-window', 'predict-slots');
    recordHistory(env.address, lastId, 'predict-slot');

    // The same window paced again: every slot was started already, and nothing is stored twice.
    const again = await pace('pace-window-again');
    expect(again).toMatchObject({ started: 0, alreadyStarted: expectedSlots.length });
    const count = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM predictions WHERE scheduled_at >= to_timestamp(${fromSec})
    `);
    expect(count).toBe(rows.length);
  }, 180_000);
});
