// The bench's slot workflow: what a slot costs through Temporal with what main offers, the
// predictShard activity (on the model-calls worker) started by a workflow at the slot's instant.
import { proxyActivities } from '@temporalio/workflow';
import type { ModelCallsQueueActivities, PredictShardInput } from '../../activities/index.js';
import type { PredictRoundSummary } from '../../lib/cycle/index.js';
import { taskQueues } from '../../lib/temporal/task-queues.js';

const models = proxyActivities<ModelCallsQueueActivities>({
  taskQueue: taskQueues.modelCalls,
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 1 },
});

export async function benchPredictSlot(input: PredictShardInput): Promise<PredictRoundSummary> {
  return models.predictShard(input);
}
