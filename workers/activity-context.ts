// What every activity gets from the worker without writing it itself: each log line it writes carries the
// workflow, run, activity type and attempt it belongs to; the model fan-outs get a trace span of their own
// and feed the worker's coordinator metrics.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { withLogContext } from '../lib/log/index.js';
import type { CoordinatorMetrics } from './coordinator-metrics.js';

interface FanOutArgs {
  untilSec?: number;
  shard?: { index?: number };
}

/** The activities that call every model of a shard. */
const FAN_OUTS = new Set(['predictShard', 'tickModels']);
const tracer = trace.getTracer('crunch-coordinator/workers');

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
      if (!FAN_OUTS.has(activityType)) return next(input);
      const args = input.args[0] as FanOutArgs | undefined;
      const predict = activityType === 'predictShard';
      if (predict && args?.untilSec !== undefined) this.metrics?.cycleStarted(args.untilSec, args.shard?.index ?? 0);
      // A span of its own around the calls to every model (and the writes they lead to), under the activity's.
      return tracer.startActiveSpan(
        predict ? 'predict fan-out' : 'tick fan-out',
        { attributes: { 'cycle.until_sec': args?.untilSec ?? -1, 'shard.index': args?.shard?.index ?? 0 } },
        async (span) => {
          try {
            const result = await next(input);
            const summary = result as { byStatus?: Record<string, number>; modelsCalled?: number } | undefined;
            if (summary?.modelsCalled !== undefined) span.setAttribute('models.called', summary.modelsCalled);
            for (const [status, count] of Object.entries(summary?.byStatus ?? {})) {
              span.setAttribute(`predictions.${status.toLowerCase()}`, count);
            }
            if (predict && summary?.byStatus) this.metrics?.predictionsStored(summary.byStatus);
            return result;
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    });
  }
}

/** The `interceptors.activity` of a worker's options. */
export function activityInterceptors(metrics?: CoordinatorMetrics) {
  return [(context: Context) => ({ inbound: new ActivityRunContext(context, metrics) })];
}
