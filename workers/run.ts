import { DefaultLogger, type LogLevel, Runtime, type Worker } from '@temporalio/worker';
import { readSettings, type Settings, temporalOptions } from '../lib/config/index.js';
import type { DatabasePool } from '../lib/db/index.js';
import { createLogger, watchEventLoop } from '../lib/log/index.js';
import type { ModelRunnerClient } from '../lib/model-runner/index.js';
import { connectWorker, type TaskQueueName, taskQueues } from '../lib/temporal/index.js';
import { createCoordinatorWorker } from './coordinator.js';
import { createModelCallsWorker } from './model-calls.js';
import { createPostgresWorker } from './postgres.js';
import { gameOf, openDatabase, openModelClient, openPriceSource } from './resources.js';
import { createScoringWorker } from './scoring.js';

export const allQueues: TaskQueueName[] = Object.values(taskQueues);

let runtimeInstalled = false;

/** Routes the Temporal SDK's own logs (bundling, worker states) into our structured log at warn and above. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = createLogger('temporal-sdk');
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        // A worker serving only workflows (or only activities) is how the queues are split, not a problem.
        const level = /^No (activities|workflows) registered/.test(entry.message) ? 'debug' : levels[entry.level];
        sdk[level]({ ...entry.meta }, entry.message);
      }),
    });
  } catch {
    // Someone (a test harness) installed it first: theirs stands.
  }
}

export interface RunningWorkers {
  /** Resolves when every worker has stopped (after stop(), or when one fails). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the workers of the given task queues in this process, each with the resources it needs
 * (a database pool, a model client, a price source), and releases them when the workers stop.
 */
export async function runWorkers(
  queues: readonly TaskQueueName[],
  settings: Settings = readSettings(),
): Promise<RunningWorkers> {
  installRuntime();
  const logger = createLogger('workers');
  const temporal = temporalOptions(settings);
  const connection = await connectWorker(temporal);
  const base = { connection, namespace: temporal.namespace };
  let db: DatabasePool | undefined;
  let client: ModelRunnerClient | undefined;
  const workers: Worker[] = [];
  try {
    const needsDb = queues.some((queue) => queue !== taskQueues.coordinator);
    if (needsDb) db = await openDatabase(settings, logger);
    for (const queue of queues) {
      switch (queue) {
        case taskQueues.coordinator:
          workers.push(
            await createCoordinatorWorker({
              ...base,
              ...(settings.WORKFLOW_BUNDLE ? { workflowBundlePath: settings.WORKFLOW_BUNDLE } : {}),
            }),
          );
          break;
        case taskQueues.postgres:
          workers.push(
            await createPostgresWorker({
              ...base,
              db: db!,
              game: gameOf(settings),
              source: await openPriceSource(settings),
              logger,
            }),
          );
          break;
        case taskQueues.modelCalls:
          client = await openModelClient(settings);
          workers.push(await createModelCallsWorker({ ...base, client, db: db!, game: gameOf(settings), logger }));
          break;
        case taskQueues.scoring:
          workers.push(await createScoringWorker({ ...base, db: db!, game: gameOf(settings), logger }));
          break;
      }
    }
  } catch (error) {
    await client?.close();
    await db?.end();
    await connection.close();
    throw error;
  }
  logger.info({ queues, temporal: temporal.address }, `workers running for ${queues.join(', ')}`);
  // What every deadline and heartbeat in this process waits at worst, once a minute in the log.
  const eventLoop = watchEventLoop(logger);
  const done = Promise.all(workers.map((worker) => worker.run())).then(async () => {
    eventLoop.stop();
    await client?.close();
    await db?.end();
    await connection.close();
    logger.info('workers stopped');
  });
  return {
    done,
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
