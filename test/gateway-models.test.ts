// GET /reports/models/{id}: per-model detail on a seeded database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { apiTime, type SeededPrediction, type SeededReports, seedReports } from './support/seed-reports.js';

const NOW = 1_749_999_600; // 2025-06-15T15:00:00Z
const US = 1_000_000;

let db: TestDatabase;
let app: Gateway;
let seeded: SeededReports;

beforeAll(async () => {
  db = await createTestDatabase();
  seeded = await seedReports(db.pool, { now: NOW, predictionDays: 3 });
  app = await buildGateway({ db: db.url, rateLimit: false });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function get(url: string) {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.json() };
}

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const position = p * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

describe('GET /reports/models/{id}', () => {
  const from = NOW - 2 * 86_400;
  const inWindow = (p: SeededPrediction) =>
    p.modelId === 'model-0002' && p.performedAtUs >= from * US && p.performedAtUs <= NOW * US;

  it('tells who the model is, where it stands and what it last scored per group', async () => {
    const response = await get(`/reports/models/model-0002?start=${from}&end=${NOW}`);
    expect(response.status).toBe(200);
    const newest = seeded.leaderboards.at(-1)!;
    const entry = newest.entries.find((e) => e.modelId === 'model-0002')!;
    const snapshot = seeded.snapshots.filter((s) => s.modelId === 'model-0002').at(-1)!;
    expect(response.body).toMatchObject({
      model_id: 'model-0002',
      model_name: 'tracker-2',
      cruncher_id: 'cruncher-2',
      cruncher_name: 'Cruncher 2',
      expected_to_run: true,
      first_seen_at: apiTime((NOW - 30 * 86_400) * US),
      last_seen_at: apiTime(NOW * US),
      deployment: { deployment_id: 'model-0002-deployment-2', state: 'RUNNING', last_seen_at: apiTime(NOW * US) },
      leaderboard: {
        created_at: apiTime(newest.createdAtUs),
        rank: entry.rank,
        score_recent: entry.recent,
        score_steady: entry.steady,
        score_anchor: entry.anchor,
      },
      latest_scores: {
        performed_at: apiTime(snapshot.asOfUs),
        score_recent: snapshot.recent,
        score_steady: snapshot.steady,
        score_anchor: snapshot.anchor,
        groups: snapshot.groups.map((g) => ({
          param: `${g.asset}-${g.horizon}-${g.step}`,
          asset: g.asset,
          horizon: g.horizon,
          step: g.step,
          score_recent: g.recent,
          score_steady: g.steady,
          score_anchor: g.anchor,
        })),
      },
      window: { start: apiTime(from * US), end: apiTime(NOW * US) },
    });
  });

  it('counts predictions by status and scoring outcome, and gives exec-time percentiles of successful calls', async () => {
    const response = await get(`/reports/models/model-0002?start=${from}&end=${NOW}`);
    const made = seeded.predictions.filter(inWindow);
    const count = (status: string) => made.filter((p) => p.status === status).length;
    expect(response.body.prediction_counts).toEqual({
      total: made.length,
      success: count('SUCCESS'),
      failed: count('FAILED'),
      timeout: count('TIMEOUT'),
      absent: count('ABSENT'),
      scored: made.filter((p) => p.score).length,
      score_failed: made.filter((p) => p.score && !p.score.success).length,
    });
    expect(count('FAILED') * count('TIMEOUT') * count('ABSENT')).toBeGreaterThan(0);
    const times = made
      .filter((p) => p.status === 'SUCCESS')
      .map((p) => p.execTimeUs!)
      .sort((a, b) => a - b);
    const exec = response.body.exec_time_us;
    expect(exec.count).toBe(times.length);
    expect(exec.p50).toBeCloseTo(percentile(times, 0.5)!, 6);
    expect(exec.p90).toBeCloseTo(percentile(times, 0.9)!, 6);
    expect(exec.p99).toBeCloseTo(percentile(times, 0.99)!, 6);
    expect(exec.max).toBe(times.at(-1));
    // Timeouts (60 s each) are left out: the percentiles describe the model's answers.
    expect(exec.max).toBeLessThan(60_000_000);
  });

  it('lists the newest predictions first with statuses, reasons and scores, up to the limit', async () => {
    const response = await get(`/reports/models/model-0002?start=${from}&end=${NOW}&limit=25`);
    const expected = seeded.predictions
      .map((p, index) => ({ p, index }))
      .filter(({ p }) => inWindow(p))
      .sort((a, b) => b.p.performedAtUs - a.p.performedAtUs || b.index - a.index)
      .slice(0, 25)
      .map(({ p }) => ({
        param: `${p.asset}-${p.horizon}-${p.step}`,
        asset: p.asset,
        horizon: p.horizon,
        step: p.step,
        status: p.status,
        reason: p.reason,
        exec_time_us: p.execTimeUs,
        performed_at: apiTime(p.performedAtUs),
        resolvable_at: apiTime(p.performedAtUs + p.horizon * US),
        scored_at: p.score ? apiTime(p.score.scoredAtUs) : null,
        score_value: p.score?.value ?? null,
        score_success: p.score?.success ?? null,
        score_failed_reason: p.score?.failedReason ?? null,
      }));
    const recent = response.body.recent_predictions;
    expect(recent.map(({ id: _id, ...rest }: { id: number }) => rest)).toEqual(expected);
    expect(recent.every((p: { id: unknown }) => Number.isInteger(p.id))).toBe(true);
    // The newest are not scored yet (resolvable after the last score pass).
    expect(recent[0].scored_at).toBeNull();
  });

  it('answers a model that never ran: no deployment, zero counts, null percentiles', async () => {
    const response = await get('/reports/models/model-0006');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      model_id: 'model-0006',
      deployment: null,
      prediction_counts: { total: 0, success: 0, failed: 0, timeout: 0, absent: 0, scored: 0, score_failed: 0 },
      exec_time_us: { count: 0, p50: null, p90: null, p99: null, max: null },
      recent_predictions: [],
    });
  });

  it('says 404 for an unknown model and 400 for bad parameters', async () => {
    expect(await get('/reports/models/nobody')).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'no model with id "nobody"' },
    });
    for (const query of ['limit=0', 'limit=501', 'limit=ten', 'start=noon', 'end=%201750000000']) {
      const response = await get(`/reports/models/model-0001?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.message, query).toEqual(expect.any(String));
    }
    const long = await get(`/reports/models/${'x'.repeat(201)}`);
    expect(long.status).toBe(400);
    // A start after the end is an empty window, not an error (the document cannot state a rule between two).
    const reversed = await get(`/reports/models/model-0001?start=${NOW}&end=${NOW - 1}`);
    expect(reversed.status).toBe(200);
    expect(reversed.body.prediction_counts.total).toBe(0);
  });
});
