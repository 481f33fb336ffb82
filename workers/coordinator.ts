import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  type InjectedSinks,
  type NativeConnection,
  Worker,
  type WorkerInterceptors,
} from '@temporalio/worker';
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

/**
 * The workflow code as one bundle, built ahead of time (the container image does it at build time): a worker
 * started with it skips bundling workflows/ at start, and every worker of a release runs the same code.
 */
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  return code;
}

/** Runs every workflow: cheap, deterministic, no resources of its own. */
export function createCoordinatorWorker(options: WorkerConnection & { workflowBundlePath?: string }): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: taskQueues.coordinator,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    ...(options.sinks ? { sinks: options.sinks } : {}),
  });
}
