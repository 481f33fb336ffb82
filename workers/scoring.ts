import { Worker } from '@temporalio/worker';
import { createScoringQueueActivities, type ScoringDeps } from '../activities/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import type { WorkerConnection } from './coordinator.js';

export interface ScoringWorkerOptions extends WorkerConnection, ScoringDeps {
  /**
   * Batches scored at once (default 2): two overlap one batch's database reads and writes with
   * another's arithmetic, which runs on scoring threads (lib/score-threads), never on the event loop.
   */
  concurrency?: number;
}

/** Scores batches of predictions: reads them and their prices, scores with the game's scorer, writes. */
export function createScoringWorker(options: ScoringWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: taskQueues.scoring,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    activities: createScoringQueueActivities(options),
    maxConcurrentActivityTaskExecutions: options.concurrency ?? 2,
  });
}
