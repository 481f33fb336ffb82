/**
 * The task queues (docs/architecture.md#task-queues): each can run in its own worker process, or all in one locally.
 * - coordinator: every workflow (cheap, deterministic)
 * - model-calls: tick/predict fan-out; holds the live model connections
 * - postgres: every database read and write the workflows need; bounded by the pool
 * - scoring: CPU-bound scoring batches; concurrency = cores
 */
export const taskQueues = {
  coordinator: 'coordinator',
  modelCalls: 'model-calls',
  postgres: 'postgres',
  scoring: 'scoring',
} as const;

export type TaskQueueName = (typeof taskQueues)[keyof typeof taskQueues];
