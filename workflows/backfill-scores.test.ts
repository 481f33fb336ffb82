// The backfill's logic with stand-in activities (test/support/stub-queues.ts): every slice scored before
// any leaderboard, the instants it ranks, continue-as-new in both phases, progress, child ids, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefreshLeaderboardInput, ScorePredictionsInput, ScorePredictionsResult } from '../activities/index.js';
import { type CoordinatorWorkflows, executeWorkflow, startWorkflow } from '../cli/workflows.js';
import type { ScoringPageOptions } from '../lib/db/index.js';
import { searchAttributes } from '../lib/temporal/index.js';
import {
  applicationFailureOf,
  type ListedPrediction,
  listPage,
  refreshed,
  type StubWorkflowEnv,
  startStubWorkflowEnv,
} from '../test/support/stub-queues.js';
import { progressQuery } from './backfill-scores.js';

const START = 1_780_000_000 - (1_780_000_000 % 3600);
const HOUR = 3600;
const iso = (sec: number) => new Date(sec * 1000).toISOString();
/** Three hours of predictions, one every 10 minutes, the last one exactly at the end of the range. */
const predictions: ListedPrediction[] = Array.from({ length: 19 }, (_, i) => ({
  id: i + 1,
  resolvableAt: START + i * 600,
}));

interface Recorder {
  calls: string[];
  pages: ScoringPageOptions[];
  refreshed: number[];
}

function stubsFor(recorder: Recorder, existingLeaderboards: number[] = []) {
  return {
    postgres: {
      async nextScoringPage(options: ScoringPageOptions) {
        recorder.pages.push(options);
        return listPage(predictions, options);
      },
      async leaderboardInstants(range: { from: number; to: number }) {
        return existingLeaderboards.filter((t) => t >= range.from && t <= range.to);
      },
      async refreshLeaderboard(input: RefreshLeaderboardInput) {
        recorder.calls.push(`rank ${input.asOf}`);
        recorder.refreshed.push(input.asOf);
        return refreshed(input.asOf);
      },
    },
    scoring: {
      async scorePredictions(input: ScorePredictionsInput): Promise<ScorePredictionsResult> {
        recorder.calls.push(`score ${input.predictionIds.join(',')}`);
        const n = input.predictionIds.length;
        return { predictions: n, scored: n, failed: 0, written: n - 1, unscored: 0 };
      },
    },
  };
}

const newRecorder = (): Recorder => ({ calls: [], pages: [], refreshed: [] });

describe('backfillScores (stand-in activities)', () => {
  let stubs: StubWorkflowEnv;
  beforeAll(async () => {
    stubs = await startStubWorkflowEnv();
  }, 60_000);
  afterAll(async () => {
    await stubs?.stop();
  });

  it('scores every slice before ranking any, then ranks the grid and the existing instants of each', async () => {
    const recorder = newRecorder();
    const existing = START + 100;
    const workflowId = 'backfill-phases';
    const { result, handle } = await stubs.run(stubsFor(recorder, [existing]), async () => {
      const handle = await startWorkflow(stubs.env.client, 'backfillScores', {
        workflowId,
        args: [
          {
            from: iso(START),
            to: iso(START + 3 * HOUR),
            rescore: true,
            sliceSeconds: HOUR,
            leaderboardEverySeconds: HOUR / 2,
            batchSize: 4,
          },
        ],
      });
      return { handle, result: await handle.result() };
    });

    const lastScore = recorder.calls.findLastIndex((call) => call.startsWith('score'));
    const firstRank = recorder.calls.findIndex((call) => call.startsWith('rank'));
    expect(lastScore).toBeLessThan(firstRank);
    const batches = recorder.calls.filter((call) => call.startsWith('score'));
    const scored = batches.flatMap((call) => call.slice('score '.length).split(','));
    expect(scored.map(Number).sort((a, b) => a - b)).toEqual(predictions.map((p) => p.id));
    // Each slice lists its own range, rescoring; only the last one includes its end.
    expect(recorder.pages.every((page) => page.rescore === true)).toBe(true);
    expect(new Set(recorder.pages.map((page) => `${page.from}-${page.to}-${page.toInclusive}`))).toEqual(
      new Set([
        `${START}-${START + HOUR}-false`,
        `${START + HOUR}-${START + 2 * HOUR}-false`,
        `${START + 2 * HOUR}-${START + 3 * HOUR}-true`,
      ]),
    );
    // Every half hour from the start to the end included, plus the leaderboard that already existed.
    const grid = Array.from({ length: 7 }, (_, i) => START + i * (HOUR / 2));
    expect(recorder.refreshed).toEqual([...grid.slice(0, 1), existing, ...grid.slice(1)]);
    expect(result).toMatchObject({
      phase: 'done',
      fraction: 1,
      slices: 3,
      slicesScored: 3,
      slicesRanked: 3,
      predictionsScored: 19,
      scoresWritten: 19 - batches.length, // the stand-in writes all but one score of each batch
      leaderboards: 8,
      currentSlice: null,
    });

    const description = await handle.describe();
    expect(await description.memo).toMatchObject({ progress: expect.stringMatching(/^done: 3\/3 slices scored/) });
    expect(description.typedSearchAttributes.get(searchAttributes.predictionsScored)).toBe(19);
    expect(description.typedSearchAttributes.get(searchAttributes.cycleTime)).toEqual(new Date(START * 1000));
    for (const phase of ['scores', 'leaderboards']) {
      const slice = await stubs.env.client.workflow
        .getHandle(`${workflowId}/slice-${iso(START + HOUR)}/${phase}`)
        .describe();
      expect(slice.status.name).toBe('COMPLETED');
    }
  });

  it('continues a slice as new when it has many batches, losing and repeating nothing', async () => {
    const recorder = newRecorder();
    const result = await stubs.run(stubsFor(recorder), () =>
      executeWorkflow(stubs.env.client, 'backfillScores', {
        workflowId: 'backfill-long-slice',
        args: [
          {
            from: iso(START),
            to: iso(START + 4 * HOUR),
            sliceSeconds: 4 * HOUR,
            leaderboardEverySeconds: HOUR,
            batchSize: 2,
            parallelBatches: 1,
            maxBatchesPerRun: 3,
          },
        ],
      }),
    );
    // 19 predictions in batches of 2, three batches a run: four runs.
    expect(result).toMatchObject({ slices: 1, predictionsScored: 19, leaderboards: 5 });
    const scored = recorder.calls.flatMap((call) =>
      call.startsWith('score') ? call.slice('score '.length).split(',') : [],
    );
    expect(scored.map(Number)).toEqual(predictions.map((p) => p.id));
    expect(recorder.refreshed).toEqual(Array.from({ length: 5 }, (_, i) => START + i * HOUR));
    const slice = await stubs.env.client.workflow
      .getHandle<CoordinatorWorkflows['backfillSlice']>(`backfill-long-slice/slice-${iso(START)}/scores`)
      .result();
    expect(slice.scoring).toMatchObject({ runs: 4, batches: 10, scored: 19 });
  });

  it('answers the progress query while it runs', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const recorder = newRecorder();
    const held = stubsFor(recorder);
    const progress = await stubs.run(
      {
        ...held,
        scoring: {
          async scorePredictions(input) {
            await gate;
            return held.scoring.scorePredictions(input);
          },
        },
      },
      async () => {
        const handle = await startWorkflow(stubs.env.client, 'backfillScores', {
          workflowId: 'backfill-progress',
          args: [{ from: iso(START), to: iso(START + 2 * HOUR), sliceSeconds: HOUR }],
        });
        const first = await handle.query(progressQuery);
        release();
        await handle.result();
        return first;
      },
    );
    expect(progress).toMatchObject({ phase: 'scoring', slices: 2, slicesScored: 0, fraction: 0, rescore: false });
  });

  it('refuses a range that ends before it starts, at once', async () => {
    const failure = await applicationFailureOf(
      stubs.run(stubsFor(newRecorder()), () =>
        executeWorkflow(stubs.env.client, 'backfillScores', {
          workflowId: 'backfill-bad-range',
          args: [{ from: iso(START + HOUR), to: iso(START) }],
        }),
      ),
    );
    expect(failure.type).toBe('BadInput');
    expect(failure.message).toMatch(/must be after from/);
  });
});
