import { Worker } from '@temporalio/worker';
import { createPostgresQueueActivities, type PostgresQueueDeps } from '../activities/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import type { WorkerConnection } from './coordinator.js';

/** Every database write the workflows need (and their reads), bounded by the pool it is given. */
export function createPostgresWorker(options: WorkerConnection & PostgresQueueDeps): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: taskQueues.postgres,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    activities: createPostgresQueueActivities(options),
    maxConcurrentActivityTaskExecutions: 10,
  });
}
