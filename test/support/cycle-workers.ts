// The three workers of a predict cycle in this process (coordinator, postgres, model-calls), for
// tests that run cycles end to end against a Temporal test environment.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import { condor } from '../../lib/game/index.js';
import { SyntheticSource } from '../../lib/market-data/index.js';
import type { ModelRunnerClient } from '../../lib/model-runner/index.js';
import { createCoordinatorWorker } from '../../workers/coordinator.js';
import { createModelCallsWorker } from '../../workers/model-calls.js';
import { createPostgresWorker } from '../../workers/postgres.js';
import type { TestDatabase } from './database.js';

export interface CycleWorkers {
  /** Shuts the workers down and waits for them to finish. */
  stop(): Promise<void>;
}

/** Starts the workers; prices come from the seeded synthetic source (seed 7), the game is Condor. */
export async function runCycleWorkers(
  env: TestWorkflowEnvironment,
  options: {
    client: ModelRunnerClient;
    db: TestDatabase;
    interceptors?: WorkerInterceptors;
    sinks?: InjectedSinks<Record<string, never>>;
  },
): Promise<CycleWorkers> {
  // Interceptors and sinks (tracing) go to every worker when given.
  const connection = {
    connection: env.nativeConnection,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    ...(options.sinks ? { sinks: options.sinks } : {}),
  };
  const workers = await Promise.all([
    createCoordinatorWorker(connection),
    createPostgresWorker({
      ...connection,
      db: options.db.pool,
      game: condor,
      source: new SyntheticSource({ seed: 7 }),
    }),
    createModelCallsWorker({ ...connection, client: options.client, db: options.db.pool, game: condor }),
  ]);
  const running = workers.map((worker) => worker.run());
  return {
    async stop() {
      for (const worker of workers) worker.shutdown();
      await Promise.allSettled(running);
    },
  };
}
