// The workflow bundle built ahead of time (as the container image does): `coordinator bundle-workflows`
// writes it, and a coordinator worker given WORKFLOW_BUNDLE runs the workflows from it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskQueues } from '../lib/temporal/index.js';
import { createCoordinatorWorker } from '../workers/coordinator.js';
import type { ingestPrices } from '../workflows/index.js';
import { createTemporalTestEnv } from './support/temporal.js';
import { repoRoot } from './support/tools.js';

describe('workflow bundle built ahead of time', () => {
  let env: TestWorkflowEnvironment;
  const work = mkdtempSync(join(tmpdir(), 'workflow-bundle-'));
  const bundle = join(work, 'dist', 'workflow-bundle.js');

  beforeAll(async () => {
    env = await createTemporalTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  it('is written by `coordinator bundle-workflows` and runs the workflows', async () => {
    const out = execFileSync(
      process.execPath,
      [resolve(repoRoot, 'bin/coordinator.mjs'), 'bundle-workflows', '--out', bundle],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toContain(`WORKFLOW_BUNDLE=${bundle}`);
    expect(statSync(bundle).size).toBeGreaterThan(10_000);

    const coordinator = await createCoordinatorWorker({ connection: env.nativeConnection, workflowBundlePath: bundle });
    // Stub activities: what is under test is that the workflow code comes from the bundle and runs.
    const postgres = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: taskQueues.postgres,
      activities: {
        loadPredictionGroups: async () => [{ horizonSec: 60, stepSec: 60, intervalSec: 60, assets: ['BTC'] }],
        syncPrices: async () => ({ stored: { BTC: 3 }, latest: { BTC: 1_764_000_000 } }),
      },
    });
    const result = await postgres.runUntil(
      coordinator.runUntil(
        env.client.workflow.execute<typeof ingestPrices>('ingestPrices', {
          taskQueue: taskQueues.coordinator,
          workflowId: 'bundled-ingest-prices',
          args: [{ scheduledAt: '2026-01-01T00:00:00Z' }],
        }),
      ),
    );
    expect(result).toEqual({
      scheduledAt: '2026-01-01T00:00:00.000Z',
      pricesStored: 3,
      latest: { BTC: 1_764_000_000 },
    });
  });
});
