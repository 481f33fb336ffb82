import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointWorkflowId, ensureSchedules, scheduleIds } from '../cli/schedules.js';
import { createLogger } from '../lib/log/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import { createTemporalTestEnv } from './support/temporal.js';

describe('ensureSchedules', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTemporalTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('creates the ingest-prices, predict-slots and score-pass schedules, each run bounded, then updates them in place', async () => {
    const logger = createLogger('test');
    // A schedule of an earlier version, which asked every slot of a period at once: removed on start.
    await env.client.schedule.create({
      scheduleId: 'predict-cycle',
      spec: { intervals: [{ every: '60s' }] },
      action: { type: 'startWorkflow', workflowType: 'predictCycle', taskQueue: taskQueues.coordinator, args: [{}] },
      state: { paused: true },
    });
    const settings = { predictTimeoutMs: 30_000, modelShards: 2, scoreEverySeconds: 300, game: 'condor-demo' };
    await ensureSchedules(env.client, settings, logger);

    // Prices every minute whatever the predict cadence, each run bounded so a stuck one never holds it.
    const prices = await env.client.schedule.getHandle(scheduleIds.ingestPrices).describe();
    expect(prices.spec.intervals?.[0]?.every).toBe(60_000);
    expect(prices.policies.overlap).toBe('SKIP');
    expect(prices.action.type === 'startWorkflow' && prices.action.workflowType).toBe('ingestPrices');
    expect(prices.action.type === 'startWorkflow' && prices.action.workflowRunTimeout).toBe(600_000);

    // The slots are paced by ten-minute windows that never wait for each other.
    const slots = await env.client.schedule.getHandle(scheduleIds.predictSlots).describe();
    expect(slots.spec.intervals?.[0]).toEqual({ every: 600_000, offset: 598_000 }); // 2 s ahead of each window
    expect(slots.policies.overlap).toBe('ALLOW_ALL');
    expect(slots.action.type === 'startWorkflow' && slots.action.workflowType).toBe('predictSlots');
    expect(slots.action.type === 'startWorkflow' && slots.action.args).toEqual([
      { game: 'condor-demo', windowSec: 600, shards: 2, timeoutMs: 30_000 },
    ]);
    // The window, then its last slot's round: three deadlines and a minute.
    expect(slots.action.type === 'startWorkflow' && slots.action.workflowRunTimeout).toBe(600_000 + 150_000);

    const score = await env.client.schedule.getHandle(scheduleIds.scorePass).describe();
    expect(score.policies.overlap).toBe('SKIP');
    expect(score.action.type === 'startWorkflow' && score.action.args).toEqual([{ game: 'condor-demo' }]);
    expect(score.action.type === 'startWorkflow' && score.action.workflowRunTimeout).toBe(3_600_000);

    await ensureSchedules(env.client, { ...settings, predictTimeoutMs: 5_000 }, logger);
    const updated = await env.client.schedule.getHandle(scheduleIds.predictSlots).describe();
    expect(updated.action.type === 'startWorkflow' && updated.action.args).toEqual([
      { game: 'condor-demo', windowSec: 600, shards: 2, timeoutMs: 5_000 },
    ]);
    const ids: string[] = [];
    for await (const summary of env.client.schedule.list()) ids.push(summary.scheduleId);
    expect(ids.sort()).toEqual(['ingest-prices', 'predict-slots', 'score-pass']);
    // Triggered at once, so the current window's slots are paced now, not from the next window on.
    const pacing: string[] = [];
    for await (const run of env.client.workflow.list({ query: 'WorkflowType = "predictSlots"' })) {
      pacing.push(run.workflowId);
    }
    expect(pacing.length).toBeGreaterThan(0);
    expect(pacing.every((id) => id.startsWith('predict-slots-'))).toBe(true);
  });

  it('schedules emission checkpoints: never skipped, a missed period caught up, runs named by their period end', async () => {
    const checkpoint = { everySeconds: 604_800, crunch: 'Crunch1111', computeProvider: 'Compute1111' };
    await ensureSchedules(
      env.client,
      { predictTimeoutMs: 30_000, modelShards: 1, game: 'condor', checkpoint },
      createLogger('test'),
    );
    const handle = env.client.schedule.getHandle(scheduleIds.emissionCheckpoint);
    const described = await handle.describe();
    expect(described.spec.intervals?.[0]?.every).toBe(604_800_000);
    expect(described.policies.overlap).toBe('BUFFER_ONE');
    expect(described.policies.catchupWindow).toBe(604_800_000);
    expect(described.action.type === 'startWorkflow' && described.action.workflowType).toBe('emissionCheckpoint');
    expect(described.action.type === 'startWorkflow' && described.action.args).toEqual([checkpoint]);
    // A run the schedule starts has the id `coordinator checkpoints create-now` would give the same instant.
    await handle.trigger();
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      for await (const run of env.client.workflow.list({ query: "WorkflowType = 'emissionCheckpoint'" }))
        id = run.workflowId;
      if (id === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(id).toMatch(/^checkpoint-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(checkpointWorkflowId(new Date(id!.slice('checkpoint-'.length)))).toBe(id);
    await env.client.workflow.getHandle(id!).terminate('no worker in this test');
  });
});
