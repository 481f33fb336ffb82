// The score pass's logic, and its child leaderboard refresh's, with stand-in activities
// (test/support/stub-queues.ts): batching, continue-as-new, the child refresh, search attributes, the
// scheduled instant, the game it passes on, bad input and retries.

import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScorePredictionsInput, ScorePredictionsResult } from '../activities/index.js';
import { type CoordinatorWorkflows, executeWorkflow, scheduledStart, startWorkflow } from '../cli/workflows.js';
import { searchAttributes } from '../lib/temporal/index.js';
import {
  applicationFailureOf,
  type ListedPrediction,
  listPage,
  refreshed,
  type StubWorkflowEnv,
  startStubWorkflowEnv,
} from '../test/support/stub-queues.js';
import type { ScorePassInput } from './index.js';

const T = 1_780_000_000;
const iso = (sec: number) => new Date(sec * 1000).toISOString();
const predictions: ListedPrediction[] = Array.from({ length: 23 }, (_, i) => ({
  id: 100 + i,
  resolvableAt: T - 3600 + i,
}));

/** Scores every id (a multiple of 5 as failed), recording each batch. */
function scoringStub(batches: ScorePredictionsInput[]) {
  return {
    async scorePredictions(input: ScorePredictionsInput): Promise<ScorePredictionsResult> {
      batches.push(input);
      const failed = input.predictionIds.filter((id) => id % 5 === 0).length;
      const n = input.predictionIds.length;
      return { predictions: n, scored: n, failed, written: n, unscored: 0 };
    },
  };
}

function postgresStub(refreshes: Array<{ asOf: number; game: string }>, retention: { runs: number }) {
  return {
    nextScoringPage: async (options: Parameters<typeof listPage>[1]) => listPage(predictions, options),
    async refreshLeaderboard(input: { asOf: number; game: string }) {
      refreshes.push({ asOf: input.asOf, game: input.game });
      return refreshed(input.asOf);
    },
    async applyRetentionPolicy() {
      retention.runs++;
      return { predictions: 2, prices: 1, modelScoreSnapshots: 0, leaderboards: 0, payloads: 0, deployments: 0 };
    },
  };
}

let stubs: StubWorkflowEnv;
beforeAll(async () => {
  stubs = await startStubWorkflowEnv();
}, 60_000);
afterAll(async () => {
  await stubs?.stop();
});

describe('scorePass (stand-in activities)', () => {
  it('scores every listed prediction once in bounded batches, continues as new, then ranks at its instant', async () => {
    const batches: ScorePredictionsInput[] = [];
    const refreshes: Array<{ asOf: number; game: string }> = [];
    const retention = { runs: 0 };
    const { result, handle } = await stubs.run(
      { postgres: postgresStub(refreshes, retention), scoring: scoringStub(batches) },
      async () => {
        const handle = await startWorkflow(stubs.env.client, 'scorePass', {
          workflowId: 'score-pass-batches',
          args: [{ asOf: iso(T), batchSize: 3, parallelBatches: 2, maxBatchesPerRun: 4 }],
        });
        return { handle, result: await handle.result() };
      },
    );

    // Pages of 3 x 2 ids; four batches per run, so 23 predictions take two runs and eight batches.
    expect(batches.every((batch) => batch.predictionIds.length <= 3 && batch.game === 'condor')).toBe(true);
    const scoredIds = batches.flatMap((batch) => batch.predictionIds);
    expect(scoredIds.sort()).toEqual(predictions.map((p) => p.id));
    expect(result).toMatchObject({
      asOf: iso(T),
      runs: 2,
      batches: 8,
      scored: 23,
      failed: 5,
      written: 23,
      unscored: 0,
    });
    expect(result.leaderboard).toMatchObject({ asOf: iso(T), models: 3, retentionDeleted: 3 });
    expect(refreshes).toEqual([{ asOf: T, game: 'condor' }]);
    expect(retention.runs).toBe(1);

    const description = await handle.describe();
    expect(description.runId).not.toBe(handle.firstExecutionRunId);
    expect(description.typedSearchAttributes.get(searchAttributes.cycleTime)).toEqual(new Date(T * 1000));
    expect(description.typedSearchAttributes.get(searchAttributes.predictionsScored)).toBe(23);
    const child = await stubs.env.client.workflow.getHandle('score-pass-batches/leaderboard').describe();
    expect(child.status.name).toBe('COMPLETED');
  });

  it('passes its game to every activity, and leaves the leaderboard alone when asked', async () => {
    const batches: ScorePredictionsInput[] = [];
    const refreshes: Array<{ asOf: number; game: string }> = [];
    const result = await stubs.run(
      { postgres: postgresStub(refreshes, { runs: 0 }), scoring: scoringStub(batches) },
      () =>
        executeWorkflow(stubs.env.client, 'scorePass', {
          workflowId: 'score-pass-demo-game',
          args: [{ asOf: iso(T), game: 'condor-demo', scorer: 'crps', refreshLeaderboard: false }],
        }),
    );
    expect(result).toMatchObject({ scored: 23, runs: 1, leaderboard: null });
    expect(new Set(batches.map((batch) => `${batch.game}/${batch.scorer}`))).toEqual(new Set(['condor-demo/crps']));
    expect(refreshes).toEqual([]);
  });

  it('stands for the instant its schedule started it for, not its start time, when no asOf is given', async () => {
    // A schedule's backfill starts now a run scheduled two hours ago: only the scheduled time says which.
    const hour = Math.floor(Date.now() / 3_600_000) * 3600 - 2 * 3600;
    const asOf = await stubs.run({ postgres: postgresStub([], { runs: 0 }), scoring: scoringStub([]) }, async () => {
      const schedule = await stubs.env.client.schedule.create({
        scheduleId: 'score-pass-scheduled',
        spec: { intervals: [{ every: '1 hour' }] },
        state: { paused: true },
        action: scheduledStart('scorePass', 'score-pass-scheduled', [{ refreshLeaderboard: false }]),
      });
      await schedule.backfill({ start: new Date((hour - 60) * 1000), end: new Date((hour + 60) * 1000) });
      for (let attempt = 0; attempt < 100; attempt++) {
        const started = (await schedule.describe()).info.recentActions[0];
        if (started) {
          const handle = stubs.env.client.workflow.getHandle<CoordinatorWorkflows['scorePass']>(
            started.action.workflow.workflowId,
          );
          return (await handle.result()).asOf;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the schedule started no run');
    });
    expect(asOf).toBe(iso(hour));
  });

  it('fails at once, with the reason, on bad input', async () => {
    const failure = (args: ScorePassInput, workflowId: string) =>
      applicationFailureOf(
        stubs.run({ postgres: postgresStub([], { runs: 0 }), scoring: scoringStub([]) }, () =>
          executeWorkflow(stubs.env.client, 'scorePass', { workflowId, args: [args] }),
        ),
      );
    const badSize = await failure({ asOf: iso(T), batchSize: 0 }, 'score-pass-bad-size');
    expect([badSize.type, badSize.message]).toEqual(['BadInput', 'batchSize must be a positive whole number, got 0']);
    const badInstant = await failure({ asOf: 'yesterday' }, 'score-pass-bad-instant');
    expect(badInstant.message).toBe('asOf "yesterday" is not an ISO-8601 instant');
  });

  it('retries a failing batch with backoff until it succeeds, but never a game mismatch', async () => {
    let attempts = 0;
    const flaky = {
      async scorePredictions(input: ScorePredictionsInput): Promise<ScorePredictionsResult> {
        attempts++;
        if (attempts <= 2) throw new Error('connection reset by the database');
        return scoringStub([]).scorePredictions(input);
      },
    };
    const result = await stubs.run({ postgres: postgresStub([], { runs: 0 }), scoring: flaky }, () =>
      executeWorkflow(stubs.env.client, 'scorePass', {
        workflowId: 'score-pass-flaky',
        args: [{ asOf: iso(T), batchSize: 50, refreshLeaderboard: false }],
      }),
    );
    expect(result.scored).toBe(23);
    expect(attempts).toBe(3);

    let refused = 0;
    const otherGame = {
      async scorePredictions(): Promise<ScorePredictionsResult> {
        refused++;
        // Retryable as thrown: the workflow's retry policy must be what stops it.
        throw ApplicationFailure.retryable('this worker plays the game "condor", not "condor-demo"', 'GameMismatch');
      },
    };
    const mismatch = await applicationFailureOf(
      stubs.run({ postgres: postgresStub([], { runs: 0 }), scoring: otherGame }, () =>
        executeWorkflow(stubs.env.client, 'scorePass', {
          workflowId: 'score-pass-other-game',
          args: [{ asOf: iso(T), batchSize: 50, refreshLeaderboard: false }],
        }),
      ),
    );
    expect(mismatch.type).toBe('GameMismatch');
    expect(refused).toBe(1);
  });
});

describe('leaderboardRefresh (stand-in activities)', () => {
  it('ranks at its instant with the game and scorer given, then applies retention unless told not to', async () => {
    const calls: string[] = [];
    const postgres = {
      async refreshLeaderboard(input: { asOf: number; game: string; scorer?: string }) {
        calls.push(`rank ${input.asOf} ${input.game} ${input.scorer ?? '-'}`);
        return refreshed(input.asOf, 4);
      },
      async applyRetentionPolicy() {
        calls.push('retention');
        return { predictions: 5, prices: 0, modelScoreSnapshots: 2, leaderboards: 1, payloads: 0, deployments: 0 };
      },
    };
    const [kept, past] = await stubs.run({ postgres }, async () => [
      await executeWorkflow(stubs.env.client, 'leaderboardRefresh', {
        workflowId: 'leaderboard-refresh-now',
        args: [{ asOf: iso(T), scorer: 'crps' }],
      }),
      await executeWorkflow(stubs.env.client, 'leaderboardRefresh', {
        workflowId: 'leaderboard-refresh-past',
        args: [{ asOf: iso(T - 60), game: 'condor-quick', retention: false }],
      }),
    ]);
    expect(calls).toEqual([`rank ${T} condor crps`, 'retention', `rank ${T - 60} condor-quick -`]);
    expect(kept).toMatchObject({ asOf: iso(T), models: 4, leader: 'model-1', retentionDeleted: 8 });
    expect(past).toMatchObject({ asOf: iso(T - 60), retentionDeleted: null });
    const description = await stubs.env.client.workflow.getHandle('leaderboard-refresh-now').describe();
    expect(description.typedSearchAttributes.get(searchAttributes.cycleTime)).toEqual(new Date(T * 1000));
  });

  it('refuses an instant that is not ISO-8601, at once', async () => {
    const failure = await applicationFailureOf(
      stubs.run({}, () =>
        executeWorkflow(stubs.env.client, 'leaderboardRefresh', {
          workflowId: 'leaderboard-refresh-bad',
          args: [{ asOf: '12/04/2026' }],
        }),
      ),
    );
    expect([failure.type, failure.message]).toEqual(['BadInput', 'asOf "12/04/2026" is not an ISO-8601 instant']);
  });
});
