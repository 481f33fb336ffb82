// Rolling windows in SQL at one instant (docs/game.md#windows-and-leaderboard, with our decisions), from the running totals of
// sql/005: per group, a window's mean is a difference of two rows found by index probes. The rules are
// those of lib/game's groupWindowScores / modelWindowScores, the reference these queries are tested against.
import { type CommonQueryMethods, type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import type { GroupWindowScores, ModelWindowScores, WindowLengths, WindowName } from '../game/index.js';
import { WINDOW_NAMES } from '../game/index.js';

export interface WindowOptions {
  /** The one instant every window ends at (unix seconds). */
  asOf: number;
  /** Window lengths in seconds (the game's `windows`). */
  windows: WindowLengths;
}

/** Checks the options before they reach SQL, so a caller's mistake reads as such, not as a database error. */
export function checkWindowOptions(options: WindowOptions): WindowOptions {
  const { asOf, windows } = options;
  if (typeof asOf !== 'number' || !Number.isFinite(asOf)) {
    throw new TypeError(`asOf must be a time in unix seconds (a finite number), got ${String(asOf)}`);
  }
  for (const name of WINDOW_NAMES) {
    const length = windows?.[name];
    if (typeof length !== 'number' || !Number.isFinite(length) || length <= 0) {
      throw new RangeError(`window ${name} must be a positive number of seconds, got ${String(length)}`);
    }
  }
  return { asOf, windows: { recent: windows.recent, steady: windows.steady, anchor: windows.anchor } };
}

const at = (seconds: number) => sql.fragment`to_timestamp(${seconds}::float8)`;

/** A finite float8, else null: JSON and the ranking both treat a missing and a non-finite score alike. */
const finite = (expression: FragmentSqlToken) =>
  sql.fragment`(CASE WHEN (${expression})::float8 IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE (${expression})::float8 END)`;

/**
 * CTEs `groups` (model_id, asset, horizon, step, recent, steady, anchor: float8) and `models` (model_id
 * and the three overall scores: float8), for use after WITH. The running totals must be settled first.
 *
 * Per group, five index probes: its first row ever (the "old enough" rule), its last row at or before
 * asOf, and for each window its first row at or after the window's start. A window's mean is
 * (running total at the last row - running total before the window's first row) / row count.
 */
export function windowsCte(options: WindowOptions): FragmentSqlToken {
  const { asOf, windows } = checkWindowOptions(options);
  const longest = WINDOW_NAMES.reduce((a, b) => (windows[b] > windows[a] ? b : a));
  const probe = (name: WindowName) => sql.fragment`(
    SELECT t.resolvable_at, t.running_sum - t.value::numeric AS sum_before, t.running_count - 1 AS count_before
    FROM score_running_totals t
    WHERE t.group_id = g.id AND t.resolvable_at >= ${at(asOf - windows[name])}
    ORDER BY t.resolvable_at, t.prediction_id
    LIMIT 1
  )`;
  const alias = (name: WindowName) => sql.identifier([`w_${name}`]);
  const mean = (name: WindowName) => sql.fragment`
    CASE WHEN f.resolvable_at <= ${at(asOf - windows[name])} AND ${alias(name)}.resolvable_at <= ${at(asOf)}
      THEN (e.running_sum - ${alias(name)}.sum_before) / (e.running_count - ${alias(name)}.count_before)
    END`;
  const joins = WINDOW_NAMES.map((name) =>
    name === longest
      ? sql.fragment`CROSS JOIN LATERAL ${probe(name)} ${alias(name)}`
      : sql.fragment`LEFT JOIN LATERAL ${probe(name)} ${alias(name)} ON true`,
  );
  const overall = (name: WindowName) =>
    sql.fragment`CASE WHEN count(${sql.identifier([`${name}_exact`])}) = count(*) THEN avg(${sql.identifier([`${name}_exact`])}) END`;
  return sql.fragment`
    exact AS (
      SELECT g.model_id, g.asset, g.horizon, g.step,
             ${mean('recent')} AS recent_exact, ${mean('steady')} AS steady_exact, ${mean('anchor')} AS anchor_exact
      FROM score_groups g
      CROSS JOIN LATERAL (
        SELECT t.resolvable_at FROM score_running_totals t
        WHERE t.group_id = g.id ORDER BY t.resolvable_at, t.prediction_id LIMIT 1
      ) f
      CROSS JOIN LATERAL (
        SELECT t.running_sum, t.running_count FROM score_running_totals t
        WHERE t.group_id = g.id AND t.resolvable_at <= ${at(asOf)}
        ORDER BY t.resolvable_at DESC, t.prediction_id DESC
        LIMIT 1
      ) e
      ${sql.join(joins, sql.fragment`\n`)}
      WHERE ${alias(longest)}.resolvable_at <= ${at(asOf)}
    ),
    groups AS (
      SELECT model_id, asset, horizon, step,
             ${finite(sql.fragment`recent_exact`)} AS recent,
             ${finite(sql.fragment`steady_exact`)} AS steady,
             ${finite(sql.fragment`anchor_exact`)} AS anchor
      FROM exact
    ),
    models AS (
      SELECT model_id,
             ${finite(overall('recent'))} AS recent,
             ${finite(overall('steady'))} AS steady,
             ${finite(overall('anchor'))} AS anchor
      FROM exact
      GROUP BY model_id
    )`;
}

/** Recomputes the running totals left dirty by score writes; returns how many rows changed. */
export async function settleRunningTotals(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ settled: z.number() }))`SELECT score_running_totals_settle() AS settled`);
}

/** Settings for a transaction that reads or writes windows: no statement deadline, no JIT. */
export async function prepareWindowTransaction(db: CommonQueryMethods): Promise<void> {
  // A settle after a large rescore rewrites millions of rows: the pool's default deadline would kill it.
  await db.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
  // The plan is thousands of small index probes; JIT compiling would cost more than running them.
  await db.query(sql.unsafe`SET LOCAL jit = off`);
}

const windowScores = { recent: z.number().nullable(), steady: z.number().nullable(), anchor: z.number().nullable() };
const groupRow = z.object({
  modelId: z.string(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  ...windowScores,
});
const modelRow = z.object({ modelId: z.string(), ...windowScores });

export interface WindowScoresAt {
  groups: GroupWindowScores[];
  models: ModelWindowScores[];
}

/**
 * The windows at `asOf`, per group and per model, without writing a snapshot (it settles the running
 * totals first). Ordered by model id, then asset, horizon and step.
 */
export async function readWindowScores(db: CommonQueryMethods, options: WindowOptions): Promise<WindowScoresAt> {
  const cte = windowsCte(options);
  return db.transaction(async (tx) => {
    await prepareWindowTransaction(tx);
    await settleRunningTotals(tx);
    const groups = await tx.any(sql.type(groupRow)`
      WITH ${cte}
      SELECT model_id AS "modelId", asset, horizon, step, recent, steady, anchor FROM groups
      ORDER BY model_id COLLATE "C", asset COLLATE "C", horizon, step
    `);
    const models = await tx.any(sql.type(modelRow)`
      WITH ${cte}
      SELECT model_id AS "modelId", recent, steady, anchor FROM models ORDER BY model_id COLLATE "C"
    `);
    return { groups: [...groups], models: [...models] };
  });
}
