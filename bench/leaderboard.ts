// Leaderboard refresh at scale: 1,000 models with 7 days of scored history at the Condor defaults
// (576 predictions per model per day, ~4 M rows, generated set-based in SQL), in a fresh database.
// Timed: a steady-state refresh (5 more minutes of scores written, then settle + windows + snapshots +
// ranks, as every score pass does), against the baseline the running totals replace: the same windows
// aggregated straight from predictions and scores in one statement, at the same instant.
// `npm run bench -- leaderboard [--models N] [--days D] [--passes P] [--keep] [--reuse DATABASE]`
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { withClient, withDatabase } from '../lib/db/database.js';
import { applyRetention, createDatabasePool, migrate, recordScores } from '../lib/db/index.js';
import { condor } from '../lib/game/index.js';
import { readWindowScores, refreshLeaderboard } from '../lib/leaderboard/index.js';
import { createLogger } from '../lib/log/index.js';

const DAY = 86_400;
const INCREMENT = 300; // one score pass period

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

/** CPU seconds a PostgreSQL backend has used (same machine only; null where /proc is not readable). */
function backendCpu(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function timed<T>(what: string, work: () => Promise<T>): Promise<[T, number]> {
  const begin = performance.now();
  const result = await work();
  const seconds = (performance.now() - begin) / 1000;
  console.error(`  ${what}: ${seconds.toFixed(3)} s`);
  return [result, seconds];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** History ends at asOf: the last 3 increments are left unscored for the timed passes. */
async function generate(db: CommonQueryMethods, models: number, days: number, asOf: number): Promise<void> {
  const from = asOf - days * DAY - 2 * 3600; // a little over the anchor window, so every window exists
  const scoredUntil = asOf - 3 * INCREMENT;
  await db.query(sql.unsafe`SELECT setseed(0.42)`);
  await db.query(sql.unsafe`
    INSERT INTO models (model_id, name)
    SELECT 'model-' || lpad(i::text, 5, '0'), 'model ' || i FROM generate_series(0, ${models - 1}::int) i
  `);
  // Each (horizon, step) group predicts its assets round-robin, one every interval / assets (docs/game.md#predict-schedule).
  await timed(`${models} models x ${days} days of predictions`, () =>
    db.query(sql.unsafe`
      INSERT INTO predictions (model_id, asset, horizon, step, status, performed_at, resolvable_at, scheduled_at, scored_at)
      SELECT m.model_id, c.asset, c.horizon, c.step,
             CASE WHEN random() < 0.05 THEN 'FAILED' ELSE 'SUCCESS' END,
             t - make_interval(secs => c.horizon), t, t - make_interval(secs => c.horizon),
             CASE WHEN t <= to_timestamp(${scoredUntil}::float8) THEN t + interval '1 minute' END
      FROM models m
      CROSS JOIN (
        SELECT asset, horizon, step, interval_seconds,
               (row_number() OVER (PARTITION BY horizon, step ORDER BY id) - 1) * interval_seconds
                 / count(*) OVER (PARTITION BY horizon, step) AS offset_seconds
        FROM prediction_configs
      ) c
      CROSS JOIN LATERAL generate_series(
        to_timestamp(${from}::float8 + c.offset_seconds), to_timestamp(${asOf}::float8),
        make_interval(secs => c.interval_seconds)
      ) t
    `),
  );
  // Failed predictions carry the likelihood penalty, 0; the triggers of sql/005 copy every value.
  await timed('their scores (one statement, through the running-total triggers)', () =>
    db.query(sql.unsafe`
      INSERT INTO scores (prediction_id, value, success, failed_reason, scorer, scored_at)
      SELECT id, CASE WHEN status = 'SUCCESS' THEN round((random() * 800)::numeric, 4)::float8 ELSE 0 END,
             status = 'SUCCESS', CASE WHEN status = 'SUCCESS' THEN NULL ELSE 'bench' END, 'bench', scored_at
      FROM predictions WHERE scored_at IS NOT NULL
    `),
  );
  await timed('vacuum analyze', () => db.query(sql.unsafe`VACUUM ANALYZE`));
}

/** The baseline: the same group windows aggregated from predictions and scores in one statement. */
function naiveWindows(asOf: number) {
  const at = (seconds: number) => sql.fragment`to_timestamp(${seconds}::float8)`;
  const { recent, steady, anchor } = condor.windows;
  return sql.type(
    z.object({
      modelId: z.string(),
      asset: z.string(),
      horizon: z.number(),
      step: z.number(),
      recent: z.number().nullable(),
      steady: z.number().nullable(),
      anchor: z.number().nullable(),
    }),
  )`
    WITH g AS (
      SELECT p.model_id, p.asset, p.horizon, p.step, min(p.resolvable_at) AS first,
             avg(s.value) FILTER (WHERE p.resolvable_at >= ${at(asOf - recent)}) AS recent_mean,
             avg(s.value) FILTER (WHERE p.resolvable_at >= ${at(asOf - steady)}) AS steady_mean,
             avg(s.value) FILTER (WHERE p.resolvable_at >= ${at(asOf - anchor)}) AS anchor_mean
      FROM predictions p JOIN scores s ON s.prediction_id = p.id
      WHERE p.resolvable_at <= ${at(asOf)}
      GROUP BY p.model_id, p.asset, p.horizon, p.step
    )
    SELECT model_id AS "modelId", asset, horizon, step,
           CASE WHEN first <= ${at(asOf - recent)} THEN recent_mean END AS recent,
           CASE WHEN first <= ${at(asOf - steady)} THEN steady_mean END AS steady,
           CASE WHEN first <= ${at(asOf - anchor)} THEN anchor_mean END AS anchor
    FROM g WHERE anchor_mean IS NOT NULL -- listed: a score in the longest window
  `;
}

export default async function leaderboard(args: string[]): Promise<Record<string, unknown>> {
  const models = option(args, 'models', 1_000);
  const days = option(args, 'days', 7);
  const passes = option(args, 'passes', 3);
  if (passes > 3) throw new Error('--passes is at most 3 (the generated history leaves 3 increments to score)');
  const reuseIndex = args.indexOf('--reuse');
  const reuse = reuseIndex >= 0 ? args[reuseIndex + 1] : undefined;
  const keep = args.includes('--keep') || reuse !== undefined;
  const server = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const name = reuse ?? `bench_leaderboard_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(server, name);
  // A fixed instant, so that a reused database has its history where this run expects it.
  const asOf = 1_750_000_200;
  if (!reuse) {
    await withClient(server, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  }
  const pool = await createDatabasePool({ connectionString: url, statementTimeoutMs: 3_600_000 });
  try {
    await migrate({ connectionString: url, logger: createLogger('bench').child({}, { level: 'warn' }) });
    if (!reuse) {
      console.error(`leaderboard: ${models} models, ${days} days of history into a fresh database ${name}`);
      await generate(pool, models, days, asOf);
    } else {
      console.error(`leaderboard: reusing ${name}; its last ${(3 * INCREMENT) / 60} minutes are unscored again`);
      await pool.query(sql.unsafe`
        DELETE FROM scores WHERE prediction_id IN (
          SELECT id FROM predictions WHERE resolvable_at > to_timestamp(${asOf - 3 * INCREMENT}::float8))`);
      await pool.query(sql.unsafe`
        UPDATE predictions SET scored_at = NULL WHERE resolvable_at > to_timestamp(${asOf - 3 * INCREMENT}::float8)`);
    }
    const counts = await pool.one(sql.type(z.object({ predictions: z.number(), scores: z.number() }))`
      SELECT (SELECT count(*) FROM predictions)::int AS predictions, (SELECT count(*) FROM scores)::int AS scores`);
    console.error(`  ${counts.predictions} predictions, ${counts.scores} scored`);

    // The first settle recomputes every running total: the one-off cost of a migration or a large rescore.
    const [settled, settleSeconds] = await timed('first settle of the running totals', () =>
      pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
        return tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT score_running_totals_settle()::int AS n`);
      }),
    );

    // The settle rewrote every row once: vacuum, as autovacuum would after such a bulk change (the test
    // server runs with autovacuum off), so the passes below see the steady state.
    await timed('vacuum of the running totals', () =>
      pool.query(sql.unsafe`VACUUM ANALYZE score_running_totals, score_groups`),
    );

    // Steady state: each pass writes the scores of 5 more minutes, then refreshes at its instant.
    const refreshSeconds: number[] = [];
    const refreshCpu: number[] = [];
    const writeSeconds: number[] = [];
    let lastScores: Array<{ predictionId: number; value: number; success: boolean; scorer: string }> = [];
    const written: number[] = [];
    let last = { models: 0, groups: 0, settled: 0 };
    for (let pass = passes; pass >= 1; pass--) {
      const instant = asOf - (pass - 1) * INCREMENT;
      const due = await pool.anyFirst(sql.type(z.object({ id: z.number() }))`
        SELECT id FROM predictions
        WHERE resolvable_at > to_timestamp(${instant - INCREMENT}::float8) AND resolvable_at <= to_timestamp(${instant}::float8)
        ORDER BY id`);
      const scores = due.map((predictionId, i) => ({
        predictionId,
        value: (i * 7919) % 800,
        success: true,
        scorer: 'bench',
      }));
      const [, write] = await timed(`pass at -${(pass - 1) * 5} min: ${due.length} new scores written`, () =>
        recordScores(pool, scores),
      );
      writeSeconds.push(write);
      lastScores = scores;
      written.push(due.length);
      const [measured, seconds] = await timed('  leaderboard refresh', () =>
        pool.transaction(async (tx) => {
          const pid = await tx.oneFirst(sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`);
          const before = backendCpu(pid);
          const result = await refreshLeaderboard(tx, {
            asOf: instant,
            windows: condor.windows,
            direction: 'higher-is-better',
          });
          const after = backendCpu(pid);
          return { result, cpu: before === null || after === null ? null : after - before };
        }),
      );
      refreshSeconds.push(seconds);
      if (measured.cpu !== null) refreshCpu.push(measured.cpu);
      last = measured.result;
    }

    // What the running-total triggers add to a pass's write: the last pass's write again without them,
    // then with them, each after undoing it (a first write without them only warms the pages up).
    const due = lastScores.map((score) => score.predictionId);
    const undo = async () => {
      await pool.query(sql.unsafe`DELETE FROM scores WHERE prediction_id = ANY(${sql.array(due, 'int8')})`);
      await pool.query(sql.unsafe`UPDATE predictions SET scored_at = NULL WHERE id = ANY(${sql.array(due, 'int8')})`);
    };
    const plainSeconds: number[] = [];
    const triggeredSeconds: number[] = [];
    for (let round = 0; round < 3; round++) {
      await undo();
      await pool.query(sql.unsafe`ALTER TABLE scores DISABLE TRIGGER score_running_totals_insert`);
      try {
        await recordScores(pool, lastScores);
        await undo();
        plainSeconds.push(
          (await timed(`${due.length} scores without the triggers`, () => recordScores(pool, lastScores)))[1],
        );
        await undo();
      } finally {
        await pool.query(sql.unsafe`ALTER TABLE scores ENABLE TRIGGER score_running_totals_insert`);
      }
      triggeredSeconds.push((await timed('  the same with them', () => recordScores(pool, lastScores)))[1]);
    }

    // What a pass does after the refresh: retention, here with nothing old enough to delete.
    const [, retentionSeconds] = await timed('retention (lib/db applyRetention), nothing to delete', () =>
      applyRetention(pool, { now: asOf }),
    );

    // The baseline at the last instant, and how far the two agree.
    const [naive, naiveSeconds] = await timed('baseline: the windows aggregated from predictions and scores', () =>
      pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
        return tx.any(naiveWindows(asOf));
      }),
    );
    const ours = await readWindowScores(pool, { asOf, windows: condor.windows });
    const byKey = new Map(ours.groups.map((g) => [`${g.modelId}/${g.asset}/${g.horizon}/${g.step}`, g]));
    let worst = 0;
    let disagreements = 0;
    for (const row of naive) {
      const group = byKey.get(`${row.modelId}/${row.asset}/${row.horizon}/${row.step}`);
      for (const window of ['recent', 'steady', 'anchor'] as const) {
        const a = group?.[window] ?? null;
        const b = row[window];
        if (a === null || b === null) {
          if (a !== b) disagreements++;
          continue;
        }
        worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
      }
    }
    if (naive.length !== ours.groups.length || disagreements > 0) {
      throw new Error(`the baseline and the refresh disagree: ${naive.length} vs ${ours.groups.length} groups`);
    }
    const refresh = median(refreshSeconds);
    return {
      models,
      days,
      predictions: counts.predictions,
      groups: last.groups,
      ranked: last.models,
      first_settle_rows: settled,
      first_settle_s: Number(settleSeconds.toFixed(2)),
      new_scores_per_pass: median(written),
      record_scores_s: Number(median(writeSeconds).toFixed(3)),
      record_scores_with_triggers_s: Number(median(triggeredSeconds).toFixed(3)),
      record_scores_without_triggers_s: Number(median(plainSeconds).toFixed(3)),
      [`leaderboard_refresh_s_${models}`]: Number(refresh.toFixed(3)),
      leaderboard_refresh_runs_s: refreshSeconds.map((s) => Number(s.toFixed(3))),
      leaderboard_refresh_backend_cpu_s: refreshCpu.length > 0 ? Number(median(refreshCpu).toFixed(2)) : null,
      retention_s: Number(retentionSeconds.toFixed(3)),
      baseline_naive_windows_s: Number(naiveSeconds.toFixed(3)),
      baseline_over_refresh: Number((naiveSeconds / refresh).toFixed(1)),
      max_relative_difference: worst,
      ...(keep ? { database: name } : {}),
    };
  } finally {
    await pool.end();
    if (!keep) {
      await withClient(server, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
      );
    }
  }
}
