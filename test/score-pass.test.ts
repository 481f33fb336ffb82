// The score pass end to end on a real Temporal dev server and a real PostgreSQL: predictions and prices
// written straight into a fresh database, the coordinator, postgres and scoring workers in this process.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startWorkflow } from '../cli/workflows.js';
import type { PriceSeries } from '../lib/game/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import type { ScorePassInput } from '../workflows/index.js';
import {
  DAY,
  earlierScores,
  expectReferenceRanking,
  insertModels,
  insertPlannedPredictions,
  insertScored,
  norm,
  type PlannedPrediction,
  predictionsWithScores,
  referenceScore,
  sourcePrices,
  storedScores,
  storePrices,
} from './leaderboard-support.js';
import type { TestDatabase } from './support/database.js';
import { historiesDirectory, recordHistory } from './support/histories.js';
import { failureIn, type ScoringStack, startScoringStack } from './support/scoring-stack.js';
import { temporalCli } from './support/tools.js';

// The newest stored price: a whole minute an hour ago, so that the retention each refresh applies
// (measured from the real clock) keeps everything and the synthetic source has later prices too.
const T0 = Math.floor(Date.now() / 60_000) * 60 - 3600;
const source = new SyntheticSource({ seed: 11 });

/** 5-minute forecasts in 1-minute steps, every 4 minutes over the last 2 hours, for three models and two assets. */
function plannedPredictions(): PlannedPrediction[] {
  const planned: PlannedPrediction[] = [];
  for (let t = T0 - 2 * 3600, round = 0; t <= T0 + 600; t += 240, round++) {
    for (const asset of ['BTC', 'ETH']) {
      planned.push({
        modelId: 'narrow',
        asset,
        performedAt: t,
        status: 'SUCCESS',
        distributions: Array(5).fill(norm(0.0007)),
      });
      planned.push({
        modelId: 'wide',
        asset,
        performedAt: t,
        status: 'SUCCESS',
        distributions: Array(5).fill(norm(0.01)),
      });
      // Fails at predict time, or answers something that is not a list: both score as failed.
      planned.push(
        round % 2 === 0
          ? { modelId: 'broken', asset, performedAt: t, status: 'FAILED', distributions: null }
          : { modelId: 'broken', asset, performedAt: t, status: 'SUCCESS', distributions: { not: 'a list' } },
      );
    }
  }
  return planned;
}

/** With RECORD_HISTORIES=1, saves one run (not the latest) of a workflow for test/replay.test.ts. */
function recordRun(address: string, workflowId: string, runId: string, name: string): void {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const json = execFileSync(
    temporalCli(),
    ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--address', address, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(resolve(historiesDirectory, `${name}.json`), json);
}

describe('scorePass', () => {
  let stack: ScoringStack;
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  const series = new Map<string, PriceSeries>();
  const models = ['narrow', 'wide', 'broken'];

  beforeAll(async () => {
    stack = await startScoringStack({
      source,
      seed: async (fresh) => {
        for (const [asset, prices] of await sourcePrices(source, ['BTC', 'ETH'], T0 - 3 * 3600, T0)) {
          await storePrices(fresh.pool, asset, prices.points);
          series.set(asset, prices.series);
        }
        await insertModels(fresh.pool, models);
        await insertPlannedPredictions(fresh.pool, plannedPredictions(), { horizon: 300, step: 60 });
        // Scored history of the same groups 8 days back, so every window of the leaderboard has a value.
        await insertScored(
          fresh.pool,
          earlierScores(models, ['BTC', 'ETH'], { horizon: 300, step: 60, resolvableAt: T0 - 8 * DAY }),
        );
      },
    });
    ({ env, db } = stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const firstRuns = new Map<string, string>();
  const runPass = async (workflowId: string, args: ScorePassInput) => {
    const handle = await startWorkflow(env.client, 'scorePass', {
      workflowId,
      args: [args],
    });
    firstRuns.set(workflowId, handle.firstExecutionRunId);
    return await handle.result();
  };

  const storedRows = () =>
    predictionsWithScores(
      db.pool,
      sql.fragment`p.horizon = 300 AND p.resolvable_at > to_timestamp(${T0 - DAY}::float8)`,
    );

  it('scores exactly the covered predictions in batches, continuing as new, then refreshes the leaderboard', async () => {
    const asOf = new Date(T0 * 1000).toISOString();
    const result = await runPass('score-pass', { asOf, batchSize: 7, parallelBatches: 2, maxBatchesPerRun: 4 });

    const rows = await storedRows();
    const covered = rows.filter((row) => row.resolvableAt <= T0);
    const waiting = rows.filter((row) => row.resolvableAt > T0);
    expect(covered.length).toBeGreaterThan(150);
    expect(waiting.length).toBeGreaterThan(10);
    // docs/game.md#where-we-differ-from-crunchdaos-code: nothing is scored before its asset's prices reach its resolvable_at.
    expect(waiting.every((row) => row.value === null && row.scoredAt === null)).toBe(true);
    expect(covered.every((row) => row.value !== null && row.scoredAt !== null)).toBe(true);

    // Each score is the game's own likelihood on the full price series; failures carry the batch's
    // penalty, min(0, lowest success) = 0 for densities, with the scorer's reason.
    for (const row of covered) {
      const expected = referenceScore(row, series.get(row.asset)!);
      expect(row.success).toBe(expected.success);
      expect(row.value).toBe(expected.value);
      expect(row.reason).toBe(expected.reason);
      expect(row.scorer).toBe('condor-likelihood');
    }
    expect(covered.filter((row) => row.success).length).toBe((covered.length * 2) / 3);
    expect(covered.filter((row) => row.reason?.includes('PredictionStatus.FAILED')).length).toBeGreaterThan(0);

    expect(result).toMatchObject({ asOf, scored: covered.length, written: covered.length, unscored: 0 });
    expect(result.failed).toBe(covered.length / 3);
    // 7 per batch, 2 at once, 4 per run: the pass continued as new several times.
    expect(result.batches).toBe(Math.ceil(covered.length / 7));
    expect(result.runs).toBeGreaterThan(3);

    const description = await env.client.workflow.getHandle('score-pass').describe();
    expect(description.typedSearchAttributes.get({ name: 'PredictionsScored', type: 'INT' })).toBe(covered.length);
    expect(description.typedSearchAttributes.get({ name: 'CycleTime', type: 'DATETIME' })).toEqual(new Date(asOf));

    // The child ranked every model at asOf, as lib/game's reference does on the same scores.
    expect(result.leaderboard).toMatchObject({ asOf, models: 3, groups: 6 });
    const entries = await db.pool.any(sql.type(
      z.object({ modelId: z.string(), recent: z.number().nullable(), anchor: z.number().nullable() }),
    )`
      SELECT e.model_id AS "modelId", e.score_recent AS recent, e.score_anchor AS anchor
      FROM leaderboard_entries e JOIN leaderboards l ON l.id = e.leaderboard_id
      WHERE l.as_of = to_timestamp(${T0}::float8) ORDER BY e.rank
    `);
    expectReferenceRanking(entries, await storedScores(db.pool), T0);
    expect(entries[0]!.modelId).toBe('narrow');
    const child = await env.client.workflow.getHandle('score-pass/leaderboard').describe();
    expect(child.status.name).toBe('COMPLETED');

    recordHistory(env.address, 'score-pass', 'score-pass');
    // The file name is the workflow id the replay uses (the child's id derives from it). The first run
    // too: it ends in continue-as-new rather than in the child.
    recordRun(env.address, 'score-pass', firstRuns.get('score-pass')!, 'score-pass-continued');
    recordHistory(env.address, 'score-pass/leaderboard', 'leaderboard-refresh');
  });

  it('scores nothing twice: a second pass finds nothing new and leaves every score as it was', async () => {
    const before = await storedRows();
    const again = await runPass('score-pass-again', { asOf: new Date(T0 * 1000).toISOString() });
    expect(again).toMatchObject({ scored: 0, written: 0, batches: 0, runs: 1 });
    expect(await storedRows()).toEqual(before);
  });

  it('scores the rest once later prices cover them', async () => {
    const later = T0 + 900;
    const points = await source.fetch('BTC', T0 + 60, later);
    await storePrices(db.pool, 'BTC', points);
    const result = await runPass('score-pass-later', { asOf: new Date(later * 1000).toISOString() });
    const rows = await storedRows();
    const newlyCovered = rows.filter(
      (row) => row.asset === 'BTC' && row.resolvableAt > T0 && row.resolvableAt <= later,
    );
    expect(result.scored).toBe(newlyCovered.length);
    expect(newlyCovered.every((row) => row.value !== null)).toBe(true);
    // ETH has no newer prices: its late predictions still wait.
    expect(rows.filter((row) => row.asset === 'ETH' && row.resolvableAt > T0).every((row) => row.value === null)).toBe(
      true,
    );
  });

  it('fails with a clear message for an unknown game, without retrying', async () => {
    await expect(runPass('score-pass-unknown-game', { game: 'chess', refreshLeaderboard: true })).rejects.toThrow();
    const history = await env.client.workflow.getHandle('score-pass-unknown-game').fetchHistory();
    const failure = failureIn(history);
    const messages = [failure?.message, failure?.cause?.message, failure?.cause?.cause?.message].join(' | ');
    expect(messages).toMatch(/unknown game "chess"/);
    // Whichever activity met the unknown game first (scoring, or the leaderboard child's), none was retried.
    const histories = [history];
    const child = env.client.workflow.getHandle('score-pass-unknown-game/leaderboard');
    histories.push(
      ...(await child.fetchHistory().then(
        (h) => [h],
        () => [],
      )),
    );
    const attempts = histories.flatMap(
      (h) => h.events?.flatMap((event) => event.activityTaskStartedEventAttributes?.attempt ?? []) ?? [],
    );
    expect(attempts.length).toBeGreaterThan(0);
    expect(new Set(attempts)).toEqual(new Set([1]));
  });

  it("refuses a pass for a game other than the workers', without retrying and without writing anything", async () => {
    // Nothing is left to score by now: the refusal comes from the leaderboard refresh, which must not rank
    // this game's scores with the other game's windows.
    const before = await storedRows();
    await expect(runPass('score-pass-other-game', { game: 'condor-demo', refreshLeaderboard: true })).rejects.toThrow();
    const history = await env.client.workflow.getHandle('score-pass-other-game').fetchHistory();
    const failure = failureIn(history);
    const causes = [failure, failure?.cause, failure?.cause?.cause];
    expect(causes.map((cause) => cause?.message).join(' | ')).toMatch(
      /this worker plays the game "condor", not "condor-demo"/,
    );
    expect(causes.map((cause) => cause?.applicationFailureInfo?.type)).toContain('GameMismatch');
    const child = await env.client.workflow.getHandle('score-pass-other-game/leaderboard').fetchHistory();
    const attempts = [history, child].flatMap(
      (h) => h.events?.flatMap((event) => event.activityTaskStartedEventAttributes?.attempt ?? []) ?? [],
    );
    expect(attempts.length).toBeGreaterThan(0);
    expect(new Set(attempts)).toEqual(new Set([1]));
    expect(await storedRows()).toEqual(before);
  });
});
