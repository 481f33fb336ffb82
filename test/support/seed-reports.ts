// A realistic report dataset written straight into the tables with SQL, as the predict cycle, the
// score pass and the leaderboard refresh would leave it: models and deployments, predictions of every
// status on the Condor schedule with their scores, a snapshot per model per pass, and leaderboards.
// Deterministic (seeded), and it returns what it wrote so tests can compute expected answers.
import { type CommonQueryMethods, sql } from 'slonik';
import { mulberry32 as random } from './mulberry32.js';

export interface SeedOptions {
  /** Unix seconds of the newest leaderboard pass (default: the last whole hour before now). */
  now?: number;
  models?: number;
  /** Models that get predictions (the first N; default 4). */
  predictionModels?: number;
  /** Days of predictions before `now` (default 2). */
  predictionDays?: number;
  /** Models that get snapshots (the first N; default all). */
  snapshotModels?: number;
  /** Days of snapshots before `now` (default 3). */
  snapshotDays?: number;
  /** Seconds between leaderboard passes, i.e. between snapshots (default 3600). */
  passEverySeconds?: number;
  /** Leaderboards written, the newest at `now` (default 3). */
  leaderboards?: number;
  seed?: number;
}

export interface SeededModel {
  modelId: string;
  name: string;
  cruncherId: string | null;
  cruncherName: string | null;
  /** The most recently seen deployment, null if the model never had one. */
  deploymentId: string | null;
}

export interface Group {
  asset: string;
  horizon: number;
  step: number;
  interval: number;
}

export interface SeededSnapshot {
  modelId: string;
  /** Microseconds since the epoch. */
  asOfUs: number;
  recent: number | null;
  steady: number | null;
  anchor: number | null;
  groups: Array<{
    asset: string;
    horizon: number;
    step: number;
    recent: number | null;
    steady: number | null;
    anchor: number | null;
  }>;
}

export interface SeededPrediction {
  modelId: string;
  asset: string;
  horizon: number;
  step: number;
  status: 'SUCCESS' | 'FAILED' | 'TIMEOUT' | 'ABSENT';
  reason: string | null;
  execTimeUs: number | null;
  performedAtUs: number;
  /** null: not scored yet (resolvable after `now`). */
  score: { value: number; success: boolean; failedReason: string | null; scoredAtUs: number } | null;
}

export interface SeededLeaderboard {
  asOfUs: number;
  createdAtUs: number;
  entries: Array<{
    rank: number;
    modelId: string;
    recent: number | null;
    steady: number | null;
    anchor: number | null;
  }>;
}

export interface SeededReports {
  nowUs: number;
  models: SeededModel[];
  groups: Group[];
  snapshots: SeededSnapshot[];
  predictions: SeededPrediction[];
  /** Oldest first; the last is the newest. */
  leaderboards: SeededLeaderboard[];
}

/** Condor's prediction configs (docs/game.md#predict-schedule), in the order snapshots list their groups. */
export const condorGroups: Group[] = [
  [86_400, 300, 3_600],
  [3_600, 60, 720],
].flatMap(([horizon, step, interval]) =>
  ['BTC', 'ETH', 'XAU', 'SOL'].map((asset) => ({ asset, horizon: horizon!, step: step!, interval: interval! })),
);

const US = 1_000_000;
const DAY_US = 86_400 * US;

/** `2025-06-15T12:00:00.123456Z`: how the seed hands times to PostgreSQL. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace('Z', `${String(us - ms * 1000).padStart(3, '0')}Z`);
}

/** A time as the gateway prints it: `2025-06-15T12:00:00.123456+00:00`. */
export function apiTime(us: number): string {
  return isoMicros(us).replace('Z', '+00:00');
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The scores a model has at a pass: a quality per model (so the ranking is stable) with per-group noise.
 * A window is null until the model's history is that long (docs/game.md#windows-and-leaderboard): model i started i % 9 days ago
 * plus a day, so some models have no steady or anchor score yet.
 */
function scoresAt(modelIndex: number, asOfUs: number, nowUs: number, groups: Group[], seed: number): SeededSnapshot {
  const rand = random(seed ^ (modelIndex * 7919) ^ Math.floor(asOfUs / US));
  const historyUs = ((modelIndex % 9) + 1) * DAY_US - (nowUs - asOfUs);
  const quality = 100 + 7 * ((modelIndex * 37) % 101);
  const window = (days: number) => (historyUs >= days * DAY_US ? (v: number) => round6(v) : () => null);
  const [recent, steady, anchor] = [window(1), window(3), window(7)];
  const perGroup = groups.map((g) => ({
    asset: g.asset,
    horizon: g.horizon,
    step: g.step,
    recent: recent(quality * (0.9 + 0.2 * rand())),
    steady: steady(quality * (0.95 + 0.1 * rand())),
    anchor: anchor(quality * (0.97 + 0.06 * rand())),
  }));
  const overall = (key: 'recent' | 'steady' | 'anchor') => {
    const values = perGroup.map((g) => g[key]);
    return values.some((v) => v === null)
      ? null
      : round6((values as number[]).reduce((a, b) => a + b, 0) / values.length);
  };
  return {
    modelId: modelIdOf(modelIndex),
    asOfUs,
    recent: overall('recent'),
    steady: overall('steady'),
    anchor: overall('anchor'),
    groups: perGroup,
  };
}

export const modelIdOf = (index: number) => `model-${String(index + 1).padStart(4, '0')}`;

/** Ranking of docs/game.md#windows-and-leaderboard: anchor, then steady, then recent, higher first, nulls last, ties by model id. */
function rank(snapshots: SeededSnapshot[]): SeededLeaderboard['entries'] {
  const key = (s: SeededSnapshot) => [s.anchor, s.steady, s.recent];
  const sorted = [...snapshots].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) {
      const [x, y] = [ka[i]!, kb[i]!];
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return y - x;
    }
    return a.modelId < b.modelId ? -1 : 1;
  });
  return sorted.map((s, i) => ({
    rank: i + 1,
    modelId: s.modelId,
    recent: s.recent,
    steady: s.steady,
    anchor: s.anchor,
  }));
}

async function insertChunks<T>(rows: T[], size: number, insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

export async function seedReports(db: CommonQueryMethods, options: SeedOptions = {}): Promise<SeededReports> {
  const now = options.now ?? Math.floor(Date.now() / 3_600_000) * 3600;
  const nowUs = now * US;
  const seed = options.seed ?? 42;
  const rand = random(seed);
  const modelCount = options.models ?? 6;
  const passUs = (options.passEverySeconds ?? 3600) * US;
  const groups = condorGroups;

  const models: SeededModel[] = Array.from({ length: modelCount }, (_, i) => ({
    modelId: modelIdOf(i),
    name: `tracker-${i + 1}`,
    // Every fifth model has no cruncher on record; the last has never been deployed.
    cruncherId: i % 5 === 4 ? null : `cruncher-${(i % 7) + 1}`,
    cruncherName: i % 5 === 4 ? null : `Cruncher ${(i % 7) + 1}`,
    deploymentId: i === modelCount - 1 && modelCount > 1 ? null : `${modelIdOf(i)}-deployment-2`,
  }));
  await insertChunks(models, 5000, (chunk) =>
    db.query(sql.unsafe`
      INSERT INTO models (model_id, name, cruncher_id, cruncher_name, first_seen_at, last_seen_at)
      SELECT model_id, name, cruncher_id, cruncher_name, to_timestamp(${now - 30 * 86_400}), to_timestamp(${now})
      FROM jsonb_to_recordset(${sql.jsonb(chunk.map((m) => ({ model_id: m.modelId, name: m.name, cruncher_id: m.cruncherId, cruncher_name: m.cruncherName })))})
        AS r (model_id text, name text, cruncher_id text, cruncher_name text)
    `),
  );
  // Two deployments per deployed model: an older one and the current one (the one reports name).
  const deployments = models.flatMap((m) =>
    m.deploymentId
      ? [
          {
            deployment_id: `${m.modelId}-deployment-1`,
            model_id: m.modelId,
            state: 'STOPPED',
            last_seen_at: isoMicros(nowUs - 2 * DAY_US),
          },
          { deployment_id: m.deploymentId, model_id: m.modelId, state: 'RUNNING', last_seen_at: isoMicros(nowUs) },
        ]
      : [],
  );
  await insertChunks(deployments, 5000, (chunk) =>
    db.query(sql.unsafe`
      INSERT INTO deployments (deployment_id, model_id, state, last_seen_at, ip, port)
      SELECT deployment_id, model_id, state, last_seen_at, '127.0.0.1', 50051
      FROM jsonb_to_recordset(${sql.jsonb(chunk)}) AS r (deployment_id text, model_id text, state text, last_seen_at timestamptz)
    `),
  );

  // Snapshots: one per model per pass over the snapshot days.
  const snapshotModels = Math.min(options.snapshotModels ?? modelCount, modelCount);
  const passes = Math.floor(((options.snapshotDays ?? 3) * DAY_US) / passUs);
  const snapshots: SeededSnapshot[] = [];
  for (let k = passes; k >= 0; k--) {
    for (let i = 0; i < snapshotModels; i++) snapshots.push(scoresAt(i, nowUs - k * passUs, nowUs, groups, seed));
  }
  await insertChunks(snapshots, 2000, (chunk) =>
    db.query(sql.unsafe`
      INSERT INTO model_score_snapshots (model_id, as_of, score_recent, score_steady, score_anchor, groups)
      SELECT model_id, as_of, recent, steady, anchor, groups
      FROM jsonb_to_recordset(${sql.jsonb(chunk.map((s) => ({ model_id: s.modelId, as_of: isoMicros(s.asOfUs), recent: s.recent, steady: s.steady, anchor: s.anchor, groups: s.groups })))})
        AS r (model_id text, as_of timestamptz, recent float8, steady float8, anchor float8, groups jsonb)
    `),
  );

  // Leaderboards of the last passes, every model ranked on its scores at that pass.
  const leaderboards: SeededLeaderboard[] = [];
  for (let k = (options.leaderboards ?? 3) - 1; k >= 0; k--) {
    const asOfUs = nowUs - k * passUs;
    const board = {
      asOfUs,
      createdAtUs: asOfUs + 30 * US + 123_456,
      entries: rank(models.map((_, i) => scoresAt(i, asOfUs, nowUs, groups, seed))),
    };
    leaderboards.push(board);
    await db.query(sql.unsafe`
      WITH board AS (
        INSERT INTO leaderboards (as_of, created_at) VALUES (${isoMicros(asOfUs)}::timestamptz, ${isoMicros(board.createdAtUs)}::timestamptz)
        RETURNING id
      )
      INSERT INTO leaderboard_entries (leaderboard_id, rank, model_id, score_recent, score_steady, score_anchor)
      SELECT board.id, r.rank, r.model_id, r.recent, r.steady, r.anchor
      FROM board, jsonb_to_recordset(${sql.jsonb(board.entries.map((e) => ({ rank: e.rank, model_id: e.modelId, recent: e.recent, steady: e.steady, anchor: e.anchor })))})
        AS r (rank int, model_id text, recent float8, steady float8, anchor float8)
    `);
  }

  // Predictions on the Condor schedule: each group predicts its assets round-robin, one every
  // interval / 4 seconds, about a quarter of a second after the scheduled time (microseconds kept).
  const predictionModels = Math.min(options.predictionModels ?? 4, modelCount);
  const fromUs = nowUs - (options.predictionDays ?? 2) * DAY_US;
  const predictions: SeededPrediction[] = [];
  const deploymentOf = new Map(models.map((m) => [m.modelId, m.deploymentId]));
  for (let i = 0; i < predictionModels; i++) {
    const modelId = modelIdOf(i);
    for (const [g, group] of groups.entries()) {
      const slotUs = (group.interval / 4) * US;
      const assetSlot = g % 4;
      for (let t = fromUs + assetSlot * slotUs; t <= nowUs; t += group.interval * US) {
        const performedAtUs = t + 250_000 + ((i * 7919 + Math.floor(t / US)) % 1000) * 1000 + ((i * 31) % 997) + 1;
        const draw = rand();
        const status = draw < 0.85 ? 'SUCCESS' : draw < 0.92 ? 'FAILED' : draw < 0.96 ? 'TIMEOUT' : 'ABSENT';
        const resolvableUs = performedAtUs + group.horizon * US;
        // Scored once prices cover resolvable_at, which the score pass sees within a few minutes.
        const scoredAtUs = resolvableUs + 90 * US + 654_321;
        const successValue = round6(50 + 400 * rand());
        const badBody = status === 'SUCCESS' && rand() < 0.05;
        predictions.push({
          modelId,
          asset: group.asset,
          horizon: group.horizon,
          step: group.step,
          status,
          reason: status === 'FAILED' ? 'model raised ValueError' : status === 'ABSENT' ? 'model not connected' : null,
          execTimeUs:
            status === 'SUCCESS'
              ? Math.round(2_000 + 40_000 * rand())
              : status === 'FAILED'
                ? 900
                : status === 'TIMEOUT'
                  ? 60_000_000
                  : null,
          performedAtUs,
          score:
            scoredAtUs > nowUs
              ? null
              : status === 'SUCCESS' && !badBody
                ? { value: successValue, success: true, failedReason: null, scoredAtUs }
                : {
                    value: 0,
                    success: false,
                    failedReason:
                      status === 'SUCCESS'
                        ? 'mixture weights must be >= 0 and sum to 1'
                        : `The prediction not succeed PredictionStatus.${status}`,
                    scoredAtUs,
                  },
        });
      }
    }
  }
  await insertChunks(predictions, 5000, (chunk) =>
    db.query(sql.unsafe`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${sql.jsonb(
          chunk.map((p) => ({
            model_id: p.modelId,
            deployment_id: deploymentOf.get(p.modelId) ?? null,
            asset: p.asset,
            horizon: p.horizon,
            step: p.step,
            status: p.status,
            reason: p.reason,
            exec_time_us: p.execTimeUs,
            // The gateway never reads bodies: one density stands for the horizon / step of them.
            distributions:
              p.status === 'SUCCESS' ? [{ type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.001 } }] : null,
            performed_at: isoMicros(p.performedAtUs),
            scored_at: p.score ? isoMicros(p.score.scoredAtUs) : null,
            score_value: p.score?.value ?? null,
            score_success: p.score?.success ?? null,
            score_failed_reason: p.score?.failedReason ?? null,
          })),
        )}) AS r (model_id text, deployment_id text, asset text, horizon int, step int, status text, reason text,
                  exec_time_us bigint, distributions jsonb, performed_at timestamptz, scored_at timestamptz,
                  score_value float8, score_success bool, score_failed_reason text)
      ),
      stored AS (
        INSERT INTO predictions (model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
                                 distributions, performed_at, resolvable_at, scheduled_at, scored_at)
        SELECT model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us, distributions,
               performed_at, performed_at + make_interval(secs => horizon), date_trunc('second', performed_at), scored_at
        FROM input
        RETURNING id, model_id, asset, horizon, step, performed_at
      )
      INSERT INTO scores (prediction_id, value, success, failed_reason, scorer, scored_at)
      SELECT stored.id, i.score_value, i.score_success, i.score_failed_reason, 'condor-likelihood', i.scored_at
      FROM stored JOIN input i USING (model_id, asset, horizon, step, performed_at)
      WHERE i.scored_at IS NOT NULL
    `),
  );

  return { nowUs, models, groups, snapshots, predictions, leaderboards };
}
