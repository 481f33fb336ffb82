import { Worker } from '@temporalio/worker';
import { createModelCallsQueueActivities, type ModelDeps } from '../activities/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import type { WorkerConnection } from './coordinator.js';

/**
 * Holds the live model connections (one ModelRunnerClient for the worker's life) and runs the tick and
 * predict fan-out. Network-bound: a few concurrent activities suffice, each fans out to every model.
 */
export function createModelCallsWorker(options: WorkerConnection & ModelDeps): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: taskQueues.modelCalls,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    activities: createModelCallsQueueActivities(options),
    maxConcurrentActivityTaskExecutions: 8,
  });
}
