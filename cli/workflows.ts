// The coordinator's workflows as a client starts them: by the name Temporal knows each by (its export
// name in workflows/index.ts, checked here at compile time), with arguments and results typed by the
// workflow function itself. Type-only imports: no workflow code runs in the client.
import type {
  Client,
  ScheduleOptionsAction,
  WorkflowHandleWithStartDetails,
  WorkflowOptions,
  WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { taskQueues } from '../lib/temporal/index.js';
import type * as coordinatorWorkflows from '../workflows/index.js';

type Exports = typeof coordinatorWorkflows;

/** Every workflow the coordinator worker runs, by its workflow type name. */
export type CoordinatorWorkflows = { [K in keyof Exports as Exports[K] extends Workflow ? K : never]: Exports[K] };
export type CoordinatorWorkflowName = keyof CoordinatorWorkflows & string;

/** Start options of workflow `K`: its own arguments; the task queue defaults to the coordinator's. */
export type StartOptions<K extends CoordinatorWorkflowName> = Omit<WorkflowOptions, 'taskQueue'> & {
  taskQueue?: string;
  args: Parameters<CoordinatorWorkflows[K]>;
};

function startOptions<K extends CoordinatorWorkflowName>(
  options: StartOptions<K>,
): WorkflowStartOptions<CoordinatorWorkflows[K]> {
  // WithWorkflowArgs is a conditional type TypeScript cannot resolve for a generic K; StartOptions<K> is
  // its resolved form (every coordinator workflow takes one input), so this only restates it.
  return { taskQueue: taskQueues.coordinator, ...options } as WorkflowStartOptions<CoordinatorWorkflows[K]>;
}

export function startWorkflow<K extends CoordinatorWorkflowName>(
  client: Client,
  name: K,
  options: StartOptions<K>,
): Promise<WorkflowHandleWithStartDetails<CoordinatorWorkflows[K]>> {
  return client.workflow.start<CoordinatorWorkflows[K]>(name, startOptions(options));
}

/** Starts workflow `name` and waits for its (typed) result. */
export function executeWorkflow<K extends CoordinatorWorkflowName>(
  client: Client,
  name: K,
  options: StartOptions<K>,
): Promise<WorkflowResultType<CoordinatorWorkflows[K]>> {
  return client.workflow.execute<CoordinatorWorkflows[K]>(name, startOptions(options));
}

/** A schedule's action that starts workflow `name` on the coordinator queue with typed arguments. */
export function scheduledStart<K extends CoordinatorWorkflowName>(
  name: K,
  workflowId: string,
  args: Parameters<CoordinatorWorkflows[K]>,
  timeouts: Pick<WorkflowOptions, 'workflowRunTimeout' | 'workflowExecutionTimeout'> = {},
): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: name,
    workflowId,
    taskQueue: taskQueues.coordinator,
    args,
    ...timeouts,
  };
}
