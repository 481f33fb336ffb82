// Workflow logic in seconds: the real workflow code on the Temporal dev server, with stand-in activities
// on the real task queues (no PostgreSQL, no model processes). One coordinator worker and one worker per
// queue run for the whole test file; each `run` says which stand-ins answer while its body runs.
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type {
  ModelCallsQueueActivities,
  PostgresQueueActivities,
  ScoringQueueActivities,
} from '../../activities/index.js';
import type { ScoringCursor, ScoringPage, ScoringPageOptions } from '../../lib/db/index.js';
import type { RefreshResult } from '../../lib/leaderboard/index.js';
import { taskQueues } from '../../lib/temporal/index.js';
import { workflowsPath } from '../../workers/coordinator.js';
import { createTemporalTestEnv } from './temporal.js';

/** Stand-ins for some activities of each queue (a workflow calling one left out fails, naming it). */
export interface StubQueues {
  postgres?: Partial<PostgresQueueActivities>;
  scoring?: Partial<ScoringQueueActivities>;
  modelCalls?: Partial<ModelCallsQueueActivities>;
}

export interface StubWorkflowEnv {
  env: TestWorkflowEnvironment;
  /** Runs `body` with these stand-ins answering the queues' activities. */
  run<T>(stubs: StubQueues, body: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Every activity of each queue, by name: the workers register a forwarder for each. */
const activityNames = {
  postgres: [
    'loadPredictionGroups',
    'syncPrices',
    'nextScoringPage',
    'leaderboardInstants',
    'refreshLeaderboard',
    'applyRetentionPolicy',
  ],
  scoring: ['scorePredictions'],
  modelCalls: ['tickModels', 'predictShard'],
} satisfies { [Q in keyof StubQueues]-?: Array<keyof NonNullable<StubQueues[Q]>> };

type Forwarder = (...args: unknown[]) => Promise<unknown>;

export async function startStubWorkflowEnv(): Promise<StubWorkflowEnv> {
  const [env, workflowBundle] = await Promise.all([
    createTemporalTestEnv(),
    bundleWorkflowCode({ workflowsPath, logger: quietBundler }),
  ]);
  let current: StubQueues = {};
  const forwarders = (queue: keyof StubQueues): Record<string, Forwarder> =>
    Object.fromEntries(
      activityNames[queue].map((name): [string, Forwarder] => [
        name,
        (...args) => {
          const stub = (current[queue] as Record<string, Forwarder | undefined> | undefined)?.[name];
          if (!stub) throw ApplicationFailure.nonRetryable(`the test gave no stand-in for ${queue}.${name}`);
          return stub(...args);
        },
      ]),
    );
  const connection = env.nativeConnection;
  const workers = await Promise.all([
    Worker.create({ connection, taskQueue: taskQueues.coordinator, workflowBundle }),
    Worker.create({ connection, taskQueue: taskQueues.postgres, activities: forwarders('postgres') }),
    Worker.create({ connection, taskQueue: taskQueues.scoring, activities: forwarders('scoring') }),
    Worker.create({ connection, taskQueue: taskQueues.modelCalls, activities: forwarders('modelCalls') }),
  ]);
  const running = workers.map((worker) => worker.run());
  return {
    env,
    async run(stubs, body) {
      current = stubs;
      try {
        return await body();
      } finally {
        current = {};
      }
    },
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(running);
      await env.teardown();
    },
  };
}

const quietBundler = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta),
  log: () => {},
};

/** Predictions to score as the listing sees them: an id and the instant it resolves at (unix seconds). */
export interface ListedPrediction {
  id: number;
  resolvableAt: number;
}

const cursorOf = (prediction: ListedPrediction): ScoringCursor => ({
  resolvableAt: new Date(prediction.resolvableAt * 1000).toISOString(),
  id: prediction.id,
});

/**
 * The listing's contract over an in-memory list: by resolvable_at then id, after a cursor, within
 * [from, to) (or [from, to] with toInclusive), at most `limit`.
 */
export function listPage(predictions: readonly ListedPrediction[], options: ScoringPageOptions): ScoringPage {
  const after = options.after;
  const ordered = [...predictions]
    .filter((p) => options.from === undefined || p.resolvableAt >= options.from)
    .filter(
      (p) =>
        options.to === undefined || (options.toInclusive ? p.resolvableAt <= options.to : p.resolvableAt < options.to),
    )
    .sort((a, b) => a.resolvableAt - b.resolvableAt || a.id - b.id)
    .filter((p) => {
      if (!after) return true;
      const afterSec = new Date(after.resolvableAt).getTime() / 1000;
      return p.resolvableAt > afterSec || (p.resolvableAt === afterSec && p.id > after.id);
    })
    .slice(0, options.limit);
  const last = ordered.at(-1);
  return { ids: ordered.map((p) => p.id), next: last ? cursorOf(last) : null };
}

/** A leaderboard refresh's result at `asOf`, as lib/leaderboard would report a small one. */
export function refreshed(asOf: number, models = 3): RefreshResult {
  return { leaderboardId: asOf, asOf, models, groups: models * 2, snapshotsRemoved: 0, settled: 0, leader: 'model-1' };
}

/** The application failure a workflow ended with, through the activity or child workflow that raised it. */
export async function applicationFailureOf(running: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await running.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail, got ${String(error)}`);
  let cause: unknown = error.cause;
  while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure)) throw new Error(`expected an application failure, got ${String(cause)}`);
  return cause;
}
