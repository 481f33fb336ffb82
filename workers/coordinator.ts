import { fileURLToPath } from 'node:url';
import { type InjectedSinks, type NativeConnection, Worker, type WorkerInterceptors } from '@temporalio/worker';
import { taskQueues } from '../lib/temporal/index.js';

export interface WorkerConnection {
  connection: NativeConnection;
  namespace?: string;
  /** Interceptors of every worker in the process (run.ts: activity log context, metrics, tracing). */
  interceptors?: WorkerInterceptors;
  /** Sinks of the workflow worker (run.ts: the tracing exporter of workflow spans). */
  sinks?: InjectedSinks<Record<string, never>>;
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
    ...(options.sinks ? { sinks: options.sinks } : {}),
  });
}
