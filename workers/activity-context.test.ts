import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { captureLogLines } from '../lib/log/capture.js';
import { activityInterceptors } from './activity-context.js';
import { createCoordinatorMetrics } from './coordinator-metrics.js';

describe('the activity interceptor', () => {
  it('binds workflow id, run id, activity type and attempt to every line an activity logs, and counts predictions', async () => {
    // Any logger with the root logger's mixin: the activity knows nothing of the context it runs in.
    const { logger, lines } = captureLogLines();
    const metrics = createCoordinatorMetrics({ logger });
    const env = new MockActivityEnvironment(
      {
        activityType: 'predictShard',
        attempt: 3,
        workflowExecution: { workflowId: 'predict-cycle-2026-12-04T16:00:00Z', runId: 'run-1' },
      },
      { interceptors: activityInterceptors(metrics) },
    );
    const untilSec = Math.floor(Date.now() / 1000) - 60;
    const predictShard = async (_input: { untilSec: number; shard: { index: number; count: number } }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('stored the round');
      return { byStatus: { SUCCESS: 5, FAILED: 1, TIMEOUT: 0, ABSENT: 2 } };
    };
    await env.run(predictShard, { untilSec, shard: { index: 0, count: 1 } });
    expect(lines).toEqual([
      {
        workflowId: 'predict-cycle-2026-12-04T16:00:00Z',
        runId: 'run-1',
        activityType: 'predictShard',
        attempt: 3,
        msg: 'stored the round',
      },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('coordinator_predictions_total{status="SUCCESS"} 5');
    expect(text).toContain('coordinator_predictions_total{status="ABSENT"} 2');
    expect(text).not.toContain('status="TIMEOUT"');
    // A minute after its instant: late.
    expect(text).toContain('coordinator_predict_cycles_total{timing="late"} 1');
    metrics.stop();
  });
});
