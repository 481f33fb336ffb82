// `npm start` end to end: the same start path (`coordinator start`) as its own process, on free ports,
// with two example submissions. It must store predictions, score and rank them, show its runs in
// Temporal, and leave no process behind when stopped. It plays `condor-quick`, the demo on its shortest
// clock (1-minute forecasts, 1.5-minute recent window), which a coordinator can choose too: the demo's
// 2-minute clock would add about two minutes of waiting and exercise nothing more.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectClient } from '../lib/temporal/index.js';
import { processesMatching } from '../orchestrator/testing/processes.js';
import { type StackPorts, startCoordinator } from './support/coordinator-start.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { exampleSubmissions } from './support/tools.js';
import { waitFor } from './support/wait-for.js';

/** Process ids whose command line mentions `needle` (excluding this test runner). */

describe('coordinator start (npm start)', () => {
  let db: TestDatabase;
  let stack: ChildProcess;
  let ports: StackPorts;
  let output: () => string;
  const work = mkdtempSync(join(tmpdir(), 'coordinator-start-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const name of ['benchmark', 'mixture']) {
      cpSync(resolve(exampleSubmissions, name), join(work, 'submissions', name), { recursive: true });
    }
    const started = await startCoordinator({
      work,
      databaseUrl: db.url,
      game: 'condor-quick',
      marketData: 'synthetic:5',
    });
    stack = started.child;
    ports = started.ports;
    output = started.output;
  }, 60_000);

  afterAll(async () => {
    if (stack && stack.exitCode === null) stack.kill('SIGKILL');
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints its URLs, stores predictions, ranks the models on the gateway, and shows its runs in Temporal', async () => {
    await waitFor('the start banner', 240_000, async () =>
      output().includes('The coordinator is running') ? true : undefined,
    );
    expect(output()).toContain(`http://127.0.0.1:${ports.ui}`);

    const successes = await waitFor('SUCCESS predictions of both models', 240_000, async () => {
      const models = await db.pool.anyFirst(sql.type(z.object({ model_id: z.string() }))`
        SELECT DISTINCT model_id FROM predictions WHERE status = 'SUCCESS' ORDER BY model_id
      `);
      return models.length === 2 ? models : undefined;
    });
    expect(successes).toEqual(['benchmark', 'mixture']);
    // The game asked for is the one played: its prediction configs are the active ones.
    const shapes = await db.pool.any(sql.type(z.object({ horizon: z.number(), step: z.number() }))`
      SELECT DISTINCT horizon, step FROM predictions
    `);
    expect(shapes).toEqual([{ horizon: 60, step: 60 }]);

    const client = await connectClient({ address: `127.0.0.1:${ports.temporal}`, namespace: 'default' });
    try {
      const runs: string[] = [];
      for await (const run of client.workflow.list({ query: 'WorkflowType = "predictSlot"' }))
        runs.push(run.workflowId);
      expect(runs.length).toBeGreaterThan(0);
      // One run per slot, named by its instant: condor-quick has one every 7.5 s.
      expect(runs.every((id) => /^predict-slot-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(000|500)Z$/.test(id))).toBe(true);
      const schedule = await client.schedule.getHandle('predict-slots').describe();
      expect(schedule.action.type === 'startWorkflow' && schedule.action.args).toEqual([
        { game: 'condor-quick', windowSec: 600, shards: 1, timeoutMs: 5_000 },
      ]);
    } finally {
      await client.connection.close();
    }
    const ui = await fetch(`http://127.0.0.1:${ports.ui}`);
    expect(ui.status).toBe(200);
    const health = await fetch(`http://127.0.0.1:${ports.gateway}/healthz`);
    expect(health.status).toBe(200);
    const models = (await (await fetch(`http://127.0.0.1:${ports.gateway}/reports/models`)).json()) as Array<{
      model_id: string;
    }>;
    expect(models.map((m) => m.model_id).sort()).toEqual(['benchmark', 'mixture']);

    // Scored once the 1-minute forecasts resolve and the next minute's price is in, then ranked by the
    // score pass's leaderboard refresh once each asset's first forecast resolved a recent window ago.
    const leaderboard = await waitFor('a ranked leaderboard with both models', 420_000, async () => {
      const response = await fetch(`http://127.0.0.1:${ports.gateway}/reports/leaderboard`);
      const rows = (await response.json()) as Array<{ model_id: string; rank: number; score_recent: number | null }>;
      return rows.length === 2 && rows.every((row) => row.score_recent !== null) ? rows : undefined;
    });
    expect(leaderboard.map((row) => row.rank)).toEqual([1, 2]);
    expect(leaderboard.map((row) => row.model_id).sort()).toEqual(['benchmark', 'mixture']);
  }, 720_000);

  it('stops everything it started on SIGINT: model processes, the Temporal server, its ports', async () => {
    const before = processesMatching(join(work, 'submissions'));
    expect(before.length).toBeGreaterThan(0); // the model-runner processes of the two submissions
    stack.kill('SIGINT');
    await waitFor('the stack to exit', 60_000, async () => (stack.exitCode !== null ? true : undefined));
    expect(stack.exitCode).toBe(0);
    expect(processesMatching(join(work, 'submissions'))).toEqual([]);
    expect(processesMatching(join(work, 'data', 'temporal'))).toEqual([]);
    await expect(
      Connection.connect({ address: `127.0.0.1:${ports.temporal}`, connectTimeout: 1000 }),
    ).rejects.toThrow();
  });
});
