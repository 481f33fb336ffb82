export { connectClient, connectWorker, defaultTemporalOptions, type TemporalOptions } from './connection.js';
export { type DevServerOptions, type RunningDevServer, startDevServer } from './dev-server.js';
export { failureTypes, nonRetryableFailureTypes } from './failure-types.js';
export { allSearchAttributes, devServerSearchAttributeArgs, searchAttributes } from './search-attributes.js';
export { type TaskQueueName, taskQueues } from './task-queues.js';
