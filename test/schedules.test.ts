import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSchedules, scheduleIds } from '../cli/schedules.js';
import { createLogger } from '../lib/log/index.js';
import { createTemporalTestEnv } from './support/temporal.js';

describe('ensureSchedules', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTemporalTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('creates the ingest-prices, predict-cycle and score-pass schedules, then updates them in place on the next start', async () => {
    const logger = createLogger('test');
    const settings = {
      predictEverySeconds: 60,
      predictTimeoutMs: 30_000,
      modelShards: 2,
      scoreEverySeconds: 300,
      game: 'condor-demo',
    };
    await ensureSchedules(env.client, settings, logger);
    // Prices every minute whatever the predict cadence, each run bounded so a stuck one never holds it.
    const prices = await env.client.schedule.getHandle(scheduleIds.ingestPrices).describe();
    expect(prices.spec.intervals?.[0]?.every).toBe(60_000);
    expect(prices.policies.overlap).toBe('SKIP');
    expect(prices.action.type === 'startWorkflow' && prices.action.workflowType).toBe('ingestPrices');
    expect(prices.action.type === 'startWorkflow' && prices.action.workflowRunTimeout).toBe(600_000);
    const predict = await env.client.schedule.getHandle(scheduleIds.predictCycle).describe();
    expect(predict.spec.intervals?.[0]?.every).toBe(60_000);
    expect(predict.policies.overlap).toBe('BUFFER_ONE');
    expect(predict.policies.catchupWindow).toBe(300_000);
    expect(predict.action.type === 'startWorkflow' && predict.action.workflowType).toBe('predictCycle');
    expect(predict.action.type === 'startWorkflow' && predict.action.args).toEqual([
      { game: 'condor-demo', periodSec: 60, shards: 2, timeoutMs: 30_000 },
    ]);
    const score = await env.client.schedule.getHandle(scheduleIds.scorePass).describe();
    expect(score.policies.overlap).toBe('SKIP');
    expect(score.action.type === 'startWorkflow' && score.action.args).toEqual([{ game: 'condor-demo' }]);

    await ensureSchedules(env.client, { ...settings, predictEverySeconds: 30 }, logger);
    const updated = await env.client.schedule.getHandle(scheduleIds.predictCycle).describe();
    expect(updated.spec.intervals?.[0]?.every).toBe(30_000);
    expect(updated.action.type === 'startWorkflow' && updated.action.args).toEqual([
      { game: 'condor-demo', periodSec: 30, shards: 2, timeoutMs: 30_000 },
    ]);
    const ids: string[] = [];
    for await (const summary of env.client.schedule.list()) ids.push(summary.scheduleId);
    expect(ids.sort()).toEqual(['ingest-prices', 'predict-cycle', 'score-pass']);
  });
});
