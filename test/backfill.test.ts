// Backfills end to end on a real Temporal dev server and PostgreSQL: late prices scored by a plain
// backfill started from the CLI, a scoring change undone by a rescore, leaderboard history recomputed
// at every hour and checked against lib/game's reference, and a second run that changes nothing.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { backfillWorkflowId, parseInstant, progressLine, webUiLink } from '../cli/commands/backfill.js';
import { type CoordinatorWorkflows, executeWorkflow, startWorkflow } from '../cli/workflows.js';
import type { PriceSeries } from '../lib/game/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import type { BackfillProgress } from '../workflows/index.js';
import {
  DAY,
  earlierScores,
  expectReferenceRanking,
  insertModels,
  insertPlannedPredictions,
  insertScored,
  norm,
  type PlannedPrediction,
  type PredictionWithScore,
  predictionsWithScores,
  referenceScore,
  sourcePrices,
  storedScores,
  storePrices,
} from './leaderboard-support.js';
import type { TestDatabase } from './support/database.js';
import { recordHistory } from './support/histories.js';
import { failureIn, type ScoringStack, startScoringStack } from './support/scoring-stack.js';
import { repoRoot } from './support/tools.js';

// Three days ending a whole hour ago: recent enough for the retention the live pass applies.
const END = Math.floor(Date.now() / 3_600_000) * 3600 - 3600;
const START = END - 3 * DAY;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const source = new SyntheticSource({ seed: 5 });
const MODELS = ['narrow', 'wide', 'broken'];

/** 5-minute forecasts every 2 hours over the three days, for three models and two assets. */
function predictions(): PlannedPrediction[] {
  const rows: PlannedPrediction[] = [];
  for (let t = START; t + 300 <= END; t += 7200) {
    for (const asset of ['BTC', 'ETH']) {
      rows.push({
        modelId: 'narrow',
        asset,
        performedAt: t,
        status: 'SUCCESS',
        distributions: Array(5).fill(norm(0.0007)),
      });
      rows.push({
        modelId: 'wide',
        asset,
        performedAt: t,
        status: 'SUCCESS',
        distributions: Array(5).fill(norm(0.005)),
      });
      rows.push({ modelId: 'broken', asset, performedAt: t, status: 'TIMEOUT', distributions: null });
    }
  }
  return rows;
}

/** Runs the coordinator CLI to completion; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(repoRoot, 'bin', 'coordinator.mjs'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('backfillScores', () => {
  let stack: ScoringStack;
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  const series = new Map<string, PriceSeries>();

  beforeAll(async () => {
    stack = await startScoringStack({
      source,
      seed: async (fresh) => {
        for (const [asset, prices] of await sourcePrices(source, ['BTC', 'ETH'], START - 3600, END)) {
          series.set(asset, prices.series);
          // ETH's last day of prices arrives late (after the first score pass).
          const stored = asset === 'ETH' ? prices.points.filter((point) => point.ts <= END - DAY) : prices.points;
          await storePrices(fresh.pool, asset, stored);
        }
        await insertModels(fresh.pool, MODELS);
        await insertPlannedPredictions(fresh.pool, predictions(), { horizon: 300, step: 60 });
        // Older scores of the same groups, so the leaderboard history has every window.
        await insertScored(
          fresh.pool,
          earlierScores(MODELS, ['BTC', 'ETH'], { horizon: 300, step: 60, resolvableAt: START - 5 * DAY }),
        );
      },
    });
    ({ env, db } = stack);

    // The live pass scores what it can; then a scoring change is simulated: BTC scores as an old scorer left them.
    const pass = await executeWorkflow(env.client, 'scorePass', {
      workflowId: 'backfill-test-live-pass',
      args: [{ asOf: iso(END) }],
    });
    expect(pass.scored).toBeGreaterThan(0);
    await db.pool.query(sql.unsafe`
      UPDATE scores s SET value = s.value + 1, scorer = 'condor-old'
      FROM predictions p WHERE p.id = s.prediction_id AND p.asset = 'BTC' AND p.horizon = 300
        AND p.resolvable_at >= to_timestamp(${START}::float8)
    `);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const rowsInRange = () =>
    predictionsWithScores(db.pool, sql.fragment`p.resolvable_at >= to_timestamp(${START}::float8)`);

  /** The score lib/game gives each prediction on the full price series (failed ones: penalty 0). */
  const expectedScore = (row: PredictionWithScore) => referenceScore(row, series.get(row.asset)!);

  /** Every row of the tables a backfill writes, for before/after comparisons. */
  const tables = async () => {
    const text = z.object({ row: z.string() });
    const dump = (table: string, order: string[]) =>
      db.pool.anyFirst(
        sql.type(text)`SELECT row(t.*)::text AS row FROM ${sql.identifier([table])} t ORDER BY ${sql.join(
          order.map((column) => sql.identifier([column])),
          sql.fragment`, `,
        )}`,
      );
    return {
      predictions: await dump('predictions', ['id']),
      scores: await dump('scores', ['prediction_id']),
      totals: await dump('score_running_totals', ['prediction_id']),
      leaderboards: await dump('leaderboards', ['id']),
      entries: await dump('leaderboard_entries', ['leaderboard_id', 'rank']),
      snapshots: await dump('model_score_snapshots', ['model_id', 'as_of']),
    };
  };

  it('scores predictions whose prices came late, from the CLI, with a progress bar and a Web UI link', async () => {
    const late = series.get('ETH')!;
    const points = Array.from(late.times)
      .map((ts, i) => ({ ts, price: late.prices[i]! }))
      .filter((point) => point.ts > END - DAY);
    await storePrices(db.pool, 'ETH', points);

    const cli = await runCli([
      'backfill',
      '--from',
      iso(START),
      '--to',
      iso(END),
      '--temporal-address',
      env.address,
      '--slice-hours',
      '24',
      '--poll-ms',
      '200',
    ]);
    expect(cli.stderr).not.toMatch(/failed/);
    expect(cli.code).toBe(0);
    const workflowId = backfillWorkflowId(START, END, false);
    expect(cli.stdout).toContain(`workflow ${workflowId}`);
    expect(cli.stdout).toContain(
      `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}`,
    );
    expect(cli.stderr).toMatch(/\[#{24}\] 100% done: 3\/3 slices scored, 3\/3 ranked/);

    const rows = await rowsInRange();
    const ethLate = rows.filter((row) => row.asset === 'ETH' && row.resolvableAt > END - DAY);
    expect(ethLate.length).toBeGreaterThan(0);
    for (const row of ethLate)
      expect({ value: row.value, success: row.success, reason: row.reason }).toEqual(expectedScore(row));
    // Without --rescore the BTC scores of the old scorer stay as they are.
    expect(rows.filter((row) => row.asset === 'BTC').every((row) => row.scorer === 'condor-old')).toBe(true);
    const done = await env.client.workflow.getHandle<CoordinatorWorkflows['backfillScores']>(workflowId).result();
    expect(done).toMatchObject({
      phase: 'done',
      slices: 3,
      predictionsScored: ethLate.length,
      scoresWritten: ethLate.length,
    });
  });

  it('rescores a range and recomputes its leaderboard history, as the reference has it', async () => {
    // Named as its recorded history file: the replay runs it under that id, and child ids derive from it.
    const workflowId = 'backfill-scores';
    const handle = await startWorkflow(env.client, 'backfillScores', {
      workflowId,
      args: [{ from: iso(START), to: iso(END), rescore: true, batchSize: 10, leaderboardEverySeconds: 3600 }],
    });
    const done = await handle.result();
    const rows = await rowsInRange();
    const covered = rows.filter((row) => row.resolvableAt <= END);
    for (const row of covered) {
      expect({ value: row.value, success: row.success, reason: row.reason }).toEqual(expectedScore(row));
      expect(row.scorer).toBe('condor-likelihood');
    }
    const btc = covered.filter((row) => row.asset === 'BTC').length;
    expect(done).toMatchObject({
      phase: 'done',
      fraction: 1,
      slices: 3,
      slicesScored: 3,
      slicesRanked: 3,
      predictionsScored: covered.length,
      scoresWritten: btc,
      leaderboards: 3 * 24 + 1,
    });

    // Every hour of the range has a leaderboard equal to the reference on the rescored data.
    const stored = await storedScores(db.pool);
    const entries = await db.pool.any(sql.type(
      z.object({ asOf: z.number(), modelId: z.string(), anchor: z.number().nullable(), recent: z.number().nullable() }),
    )`
      SELECT extract(epoch FROM l.as_of)::float8 AS "asOf", e.model_id AS "modelId", e.score_anchor AS anchor,
             e.score_recent AS recent
      FROM leaderboards l JOIN leaderboard_entries e ON e.leaderboard_id = l.id
      WHERE l.as_of BETWEEN to_timestamp(${START}::float8) AND to_timestamp(${END}::float8)
      ORDER BY l.as_of, e.rank
    `);
    const instants = [...new Set(entries.map((entry) => entry.asOf))];
    expect(instants).toEqual(Array.from({ length: 3 * 24 + 1 }, (_, i) => START + i * 3600));
    for (const asOf of instants) {
      expectReferenceRanking(
        entries.filter((entry) => entry.asOf === asOf),
        stored,
        asOf,
      );
    }

    // Progress stays visible after the end: memo, search attribute, child workflows with derived ids.
    const description = await handle.describe();
    expect(await description.memo).toMatchObject({ progress: expect.stringMatching(/^done: 3\/3 slices scored/) });
    expect(description.typedSearchAttributes.get({ name: 'PredictionsScored', type: 'INT' })).toBe(covered.length);
    const slice = await env.client.workflow.getHandle(`${workflowId}/slice-${iso(START)}/scores`).describe();
    expect(slice.status.name).toBe('COMPLETED');
    recordHistory(env.address, workflowId, 'backfill-scores');
    recordHistory(env.address, `${workflowId}/slice-${iso(START)}/scores`, 'backfill-slice-scores');
    recordHistory(env.address, `${workflowId}/slice-${iso(START)}/leaderboards`, 'backfill-slice-leaderboards');
  });

  it('changes nothing when the same backfill runs again', async () => {
    const before = await tables();
    const again = await executeWorkflow(env.client, 'backfillScores', {
      workflowId: 'backfill-scores',
      args: [{ from: iso(START), to: iso(END), rescore: true, batchSize: 10, leaderboardEverySeconds: 3600 }],
    });
    expect(again.scoresWritten).toBe(0);
    expect(again.leaderboards).toBe(3 * 24 + 1);
    expect(await tables()).toEqual(before);
  });

  it('answers the progress query while it runs, and refuses a bad range with a clear message', async () => {
    const handle = await startWorkflow(env.client, 'backfillScores', {
      workflowId: 'backfill-progress-query',
      args: [{ from: iso(START), to: iso(START + 6 * 3600), sliceSeconds: 3600 }],
    });
    const first = await handle.query<BackfillProgress>('progress');
    expect(first).toMatchObject({ slices: 6, from: iso(START), to: iso(START + 6 * 3600), rescore: false });
    expect(first.fraction).toBeGreaterThanOrEqual(0);
    expect(first.fraction).toBeLessThanOrEqual(1);
    await handle.result();

    await expect(
      executeWorkflow(env.client, 'backfillScores', {
        workflowId: 'backfill-bad-range',
        args: [{ from: iso(END), to: iso(START) }],
      }),
    ).rejects.toThrow();
    const failure = failureIn(await env.client.workflow.getHandle('backfill-bad-range').fetchHistory());
    expect(failure?.message).toMatch(/must be after from/);
  });
});

describe('backfill CLI helpers', () => {
  it('reads times as UTC unless they say otherwise, and names a bad one', () => {
    expect(parseInstant('2025-06-01', '--from')).toBe(Date.UTC(2025, 5, 1) / 1000);
    expect(parseInstant('2025-06-01T12:30', '--from')).toBe(Date.UTC(2025, 5, 1, 12, 30) / 1000);
    expect(parseInstant('2025-06-01T12:30:00+02:00', '--to')).toBe(Date.UTC(2025, 5, 1, 10, 30) / 1000);
    expect(() => parseInstant('yesterday', '--from')).toThrow('--from "yesterday" is not an ISO-8601 time');
  });

  it('derives one workflow id per range and mode, and links it in the Web UI', () => {
    const id = backfillWorkflowId(0, 3600, true);
    expect(id).toBe('backfill-1970-01-01T00:00:00.000Z-1970-01-01T01:00:00.000Z-rescore');
    expect(webUiLink('http://127.0.0.1:8233/', 'default', 'a/b')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/a%2Fb',
    );
  });

  it('draws the bar from the share of work done', () => {
    const progress: BackfillProgress = {
      phase: 'leaderboards',
      from: '',
      to: '',
      rescore: false,
      slices: 4,
      slicesScored: 4,
      slicesRanked: 2,
      fraction: 0.75,
      predictionsScored: 10,
      scoresWritten: 3,
      leaderboards: 48,
      currentSlice: null,
    };
    expect(progressLine(progress, 8)).toBe(
      '[######--]  75% leaderboards: 4/4 slices scored, 2/4 ranked, 10 predictions scored, 3 scores written, 48 leaderboards',
    );
  });
});
