// One activity proxy per task queue, with that queue's timeouts and its retry policy: no workflow writes its
// own. Each proxy has exactly the type the queue's worker registers (activities/queues.ts).
import { type ActivityOptions, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type {
  ModelCallsQueueActivities,
  PostgresQueueActivities,
  ScoringQueueActivities,
} from '../activities/index.js';
import { slotRoundBoundMs } from '../lib/schedule/index.js';
import { nonRetryableFailureTypes } from '../lib/temporal/failure-types.js';
import { taskQueues } from '../lib/temporal/task-queues.js';

/**
 * Bounded retries with backoff: 1 s, 2 s, 4 s ... up to a minute apart, ten attempts (about six minutes),
 * so a database restart or a worker redeploy is ridden out while a lasting fault fails the workflow where
 * an operator sees it. Bad input, an unknown game and a game other than the worker's are not retried.
 */
export const retryPolicy: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
  nonRetryableErrorTypes: nonRetryableFailureTypes,
};

/** Each queue's activity options. An activity that may run longer than its heartbeat timeout heartbeats. */
export const queueOptions = {
  /** Short reads run well within the heartbeat timeout; a refresh after a large rescore may take minutes. */
  postgres: {
    taskQueue: taskQueues.postgres,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: retryPolicy,
  },
  /** One batch: reads, scores, writes; a dead worker is noticed by the missing heartbeats. */
  scoring: {
    taskQueue: taskQueues.scoring,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '1 minute',
    retry: retryPolicy,
  },
  /** The start-to-close timeout follows the call deadline: see modelCallsWithin. */
  modelCalls: {
    taskQueue: taskQueues.modelCalls,
    heartbeatTimeout: '20 seconds',
    retry: retryPolicy,
  },
} satisfies Record<string, ActivityOptions>;

export const postgres = proxyActivities<PostgresQueueActivities>(queueOptions.postgres);

export const scoring = proxyActivities<ScoringQueueActivities>(queueOptions.scoring);

/**
 * The model-calls queue for calls with the given deadline: a round's activity may tick then predict (two
 * deadlines) plus the storing, so it is given three deadlines and a minute (lib/schedule slotRoundBoundMs).
 */
export function modelCallsWithin(callTimeoutMs: number) {
  return proxyActivities<ModelCallsQueueActivities>({
    ...queueOptions.modelCalls,
    startToCloseTimeout: slotRoundBoundMs(callTimeoutMs),
  });
}
