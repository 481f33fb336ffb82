// The set-up of the score-pass and backfill tests: a Temporal dev server and a fresh PostgreSQL
// database, seeded by the test, then the coordinator, postgres and scoring workers in this process.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { condor } from '../../lib/game/index.js';
import type { PriceSource } from '../../lib/market-data/index.js';
import { createCoordinatorWorker } from '../../workers/coordinator.js';
import { createPostgresWorker } from '../../workers/postgres.js';
import { createScoringWorker } from '../../workers/scoring.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createTemporalTestEnv } from './temporal.js';

export interface ScoringStack {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  /** Shuts the workers down, then drops the database and tears the server down. */
  stop(): Promise<void>;
}

/**
 * Starts the server and the database, lets `seed` fill the database, then starts the three workers
 * (the postgres one reading prices from `source`). If anything fails on the way, what was started is
 * stopped before the error is thrown.
 */
export async function startScoringStack(options: {
  source: PriceSource;
  seed: (db: TestDatabase) => Promise<void>;
}): Promise<ScoringStack> {
  const [envResult, dbResult] = await Promise.allSettled([createTemporalTestEnv(), createTestDatabase()]);
  const env = envResult.status === 'fulfilled' ? envResult.value : undefined;
  const db = dbResult.status === 'fulfilled' ? dbResult.value : undefined;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];
  const stop = async () => {
    for (const worker of workers) worker.shutdown();
    await Promise.allSettled(running);
    await db?.drop();
    await env?.teardown();
  };
  try {
    if (envResult.status === 'rejected') throw envResult.reason;
    if (dbResult.status === 'rejected') throw dbResult.reason;
    await options.seed(db!);
    const connection = { connection: env!.nativeConnection };
    workers = await Promise.all([
      createCoordinatorWorker(connection),
      createPostgresWorker({ ...connection, db: db!.pool, game: condor, source: options.source }),
      createScoringWorker({ ...connection, db: db!.pool, game: condor }),
    ]);
    running = workers.map((worker) => worker.run());
  } catch (error) {
    await stop();
    throw error;
  }
  return { env: env!, db: db!, stop };
}

type History = Awaited<
  ReturnType<ReturnType<TestWorkflowEnvironment['client']['workflow']['getHandle']>['fetchHistory']>
>;

/** The failure a workflow ended with, from its history (a failed `execute` wraps it in its causes). */
export function failureIn(history: History) {
  return history.events?.find((event) => event.workflowExecutionFailedEventAttributes)
    ?.workflowExecutionFailedEventAttributes?.failure;
}
