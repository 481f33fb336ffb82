import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerInterceptors } from '@temporalio/worker';
import { taskQueues } from '../lib/temporal/index.js';

export interface WorkerConnection {
  connection: NativeConnection;
  namespace?: string;
  /** Interceptors of every worker in the process (run.ts: activity log context, metrics, tracing). */
  interceptors?: WorkerInterceptors;
}

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Runs every workflow: cheap, deterministic, no resources of its own. */
export function createCoordinatorWorker(options: WorkerConnection): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: taskQueues.coordinator,
    workflowsPath,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
}
