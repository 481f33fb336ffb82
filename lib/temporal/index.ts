export { connectClient, connectWorker, defaultTemporalOptions, type TemporalOptions } from './connection.js';
export { type DevServerOptions, type RunningDevServer, startDevServer } from './dev-server.js';
export {
  type CheckpointScheduleSettings,
  checkpointWorkflowId,
  checkpointWorkflowPrefix,
  ensureSchedules,
  type ScheduleSettings,
  scheduleDefinitions,
  scheduleIds,
} from './schedules.js';
export { allSearchAttributes, devServerSearchAttributeArgs, searchAttributes } from './search-attributes.js';
export { type TaskQueueName, taskQueues } from './task-queues.js';
