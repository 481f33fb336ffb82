// What every activity gets from the worker without writing it itself: each log line it writes carries the
// workflow, run, activity type and attempt it belongs to, and the predict fan-out feeds the worker's
// coordinator metrics.
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { withLogContext } from '../lib/log/index.js';
import type { CoordinatorMetrics } from './coordinator-metrics.js';

interface PredictShardArgs {
  untilSec?: number;
  shard?: { index?: number };
}

export class ActivityRunContext implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly context: Context,
    private readonly metrics?: CoordinatorMetrics,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { workflowExecution, activityType, attempt } = this.context.info;
    // A standalone activity (started by a client, not a workflow) has no workflow to name.
    const bindings = {
      workflowId: workflowExecution?.workflowId,
      runId: workflowExecution?.runId,
      activityType,
      attempt,
    };
    return withLogContext(bindings, async () => {
      const predict = activityType === 'predictShard' ? (input.args[0] as PredictShardArgs | undefined) : undefined;
      if (predict?.untilSec !== undefined) this.metrics?.cycleStarted(predict.untilSec, predict.shard?.index ?? 0);
      const result = await next(input);
      const byStatus = (result as { byStatus?: Record<string, number> } | undefined)?.byStatus;
      if (predict && byStatus) this.metrics?.predictionsStored(byStatus);
      return result;
    });
  }
}

/** The `interceptors.activity` of a worker's options. */
export function activityInterceptors(metrics?: CoordinatorMetrics) {
  return [(context: Context) => ({ inbound: new ActivityRunContext(context, metrics) })];
}
