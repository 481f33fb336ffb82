// Per-model detail beyond the CrunchDAO UI's reports: who the model is, where it stands, how its calls went.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import type { TimeRange } from '../params.js';
import { isoUtc } from '../times.js';

const window = (column: string[], { start, end }: TimeRange) =>
  sql.fragment`${sql.identifier(column)} BETWEEN ${start.iso}::timestamptz AND ${end.iso}::timestamptz`;

const modelRow = z.object({
  model_id: z.string(),
  model_name: z.string(),
  cruncher_id: z.string().nullable(),
  cruncher_name: z.string().nullable(),
  expected_to_run: z.boolean(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  deployment_id: z.string().nullable(),
  deployment_state: z.string().nullable(),
  deployment_last_seen_at: z.string().nullable(),
});

export function modelIdentity(db: CommonQueryMethods, modelId: string) {
  return db.maybeOne(sql.type(modelRow)`
    SELECT m.model_id, m.name AS model_name, m.cruncher_id, m.cruncher_name, m.expected_to_run,
           ${isoUtc('m', 'first_seen_at')} AS first_seen_at, ${isoUtc('m', 'last_seen_at')} AS last_seen_at,
           d.deployment_id, d.state AS deployment_state, ${isoUtc('d', 'last_seen_at')} AS deployment_last_seen_at
    FROM models m
    LEFT JOIN LATERAL (
      SELECT * FROM deployments
      WHERE deployments.model_id = m.model_id
      ORDER BY last_seen_at DESC, deployment_id DESC
      LIMIT 1
    ) d ON true
    WHERE m.model_id = ${modelId}
  `);
}

const standingRow = z.object({
  created_at: z.string(),
  rank: z.number(),
  score_recent: z.number().nullable(),
  score_steady: z.number().nullable(),
  score_anchor: z.number().nullable(),
});

/** The model's entry in the newest leaderboard, if it is on it. */
export function leaderboardStanding(db: CommonQueryMethods, modelId: string) {
  return db.maybeOne(sql.type(standingRow)`
    SELECT ${isoUtc('l', 'created_at')} AS created_at, e.rank, e.score_recent, e.score_steady, e.score_anchor
    FROM (SELECT id, created_at FROM leaderboards ORDER BY as_of DESC LIMIT 1) l
    JOIN leaderboard_entries e ON e.leaderboard_id = l.id AND e.model_id = ${modelId}
  `);
}

const snapshotRow = z.object({
  performed_at: z.string(),
  score_recent: z.number().nullable(),
  score_steady: z.number().nullable(),
  score_anchor: z.number().nullable(),
  groups: z.unknown(),
});

export interface GroupScores {
  param: string;
  asset: string | null;
  horizon: number | null;
  step: number | null;
  score_recent: number | null;
  score_steady: number | null;
  score_anchor: number | null;
}

const numberOrNull = (value: unknown): number | null => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : null;
};

/** Snapshot groups as the API reports them; whatever else the JSON holds is left out, never fatal. */
export function groupScores(groups: unknown): GroupScores[] {
  if (!Array.isArray(groups)) return [];
  return groups
    .filter((group): group is Record<string, unknown> => typeof group === 'object' && group !== null)
    .map((group) => {
      const asset = typeof group.asset === 'string' ? group.asset : null;
      const horizon = numberOrNull(group.horizon);
      const step = numberOrNull(group.step);
      return {
        param: [asset, horizon, step].map((part) => part ?? '').join('-'),
        asset,
        horizon,
        step,
        score_recent: numberOrNull(group.recent),
        score_steady: numberOrNull(group.steady),
        score_anchor: numberOrNull(group.anchor),
      };
    });
}

/** The model's newest snapshot: overall scores and the windows of each group. */
export async function latestScores(db: CommonQueryMethods, modelId: string) {
  const row = await db.maybeOne(sql.type(snapshotRow)`
    SELECT ${isoUtc('s', 'as_of')} AS performed_at, s.score_recent, s.score_steady, s.score_anchor, s.groups
    FROM model_score_snapshots s
    WHERE s.model_id = ${modelId}
    ORDER BY s.as_of DESC
    LIMIT 1
  `);
  return row ? { ...row, groups: groupScores(row.groups) } : null;
}

const activityRow = z.object({
  total: z.number(),
  success: z.number(),
  failed: z.number(),
  timeout: z.number(),
  absent: z.number(),
  scored: z.number(),
  score_failed: z.number(),
  exec_count: z.number(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
});

/**
 * Prediction counts by status in the range, how many were scored and failed scoring, and the
 * percentiles of the execution time of successful calls (a FAILED call may return at once and a
 * TIMEOUT is the deadline, so mixing them in would say little about the model's speed).
 */
export async function predictionActivity(db: CommonQueryMethods, modelId: string, timeRange: TimeRange) {
  const succeeded = sql.fragment`p.status = 'SUCCESS' AND p.exec_time_us IS NOT NULL`;
  const row = await db.one(sql.type(activityRow)`
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE p.status = 'SUCCESS')::int AS success,
           count(*) FILTER (WHERE p.status = 'FAILED')::int AS failed,
           count(*) FILTER (WHERE p.status = 'TIMEOUT')::int AS timeout,
           count(*) FILTER (WHERE p.status = 'ABSENT')::int AS absent,
           count(s.prediction_id)::int AS scored,
           count(*) FILTER (WHERE s.success = false)::int AS score_failed,
           count(*) FILTER (WHERE ${succeeded})::int AS exec_count,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY p.exec_time_us) FILTER (WHERE ${succeeded}) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY p.exec_time_us) FILTER (WHERE ${succeeded}) AS p90,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY p.exec_time_us) FILTER (WHERE ${succeeded}) AS p99,
           (max(p.exec_time_us) FILTER (WHERE ${succeeded}))::float8 AS max
    FROM predictions p
    LEFT JOIN scores s ON s.prediction_id = p.id
    WHERE p.model_id = ${modelId} AND ${window(['p', 'performed_at'], timeRange)}
  `);
  return {
    counts: {
      total: row.total,
      success: row.success,
      failed: row.failed,
      timeout: row.timeout,
      absent: row.absent,
      scored: row.scored,
      score_failed: row.score_failed,
    },
    exec_time_us: { count: row.exec_count, p50: row.p50, p90: row.p90, p99: row.p99, max: row.max },
  };
}

const predictionRow = z.object({
  id: z.number(),
  param: z.string(),
  asset: z.string(),
  horizon: z.number(),
  step: z.number(),
  status: z.string(),
  reason: z.string().nullable(),
  exec_time_us: z.number().nullable(),
  performed_at: z.string(),
  resolvable_at: z.string(),
  scored_at: z.string().nullable(),
  score_value: z.number().nullable(),
  score_success: z.boolean().nullable(),
  score_failed_reason: z.string().nullable(),
});

/** The newest predictions of the range, newest first, scored or not. */
export async function recentPredictions(db: CommonQueryMethods, modelId: string, timeRange: TimeRange, limit: number) {
  const rows = await db.any(sql.type(predictionRow)`
    SELECT p.id::float8 AS id, concat_ws('-', p.asset, p.horizon, p.step) AS param, p.asset, p.horizon, p.step,
           p.status, p.reason, p.exec_time_us::float8 AS exec_time_us,
           ${isoUtc('p', 'performed_at')} AS performed_at, ${isoUtc('p', 'resolvable_at')} AS resolvable_at,
           ${isoUtc('s', 'scored_at')} AS scored_at, s.value AS score_value, s.success AS score_success,
           s.failed_reason AS score_failed_reason
    FROM predictions p
    LEFT JOIN scores s ON s.prediction_id = p.id
    WHERE p.model_id = ${modelId} AND ${window(['p', 'performed_at'], timeRange)}
    ORDER BY p.performed_at DESC, p.id DESC
    LIMIT ${limit}
  `);
  return [...rows];
}
