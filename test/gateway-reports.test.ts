// Contract tests of the report API the CrunchDAO UI reads (docs/game.md#report-api and the fixes of docs/game.md#where-we-differ-from-crunchdaos-code), on a real
// PostgreSQL seeded the way the predict cycle, score pass and leaderboard refresh leave it, through the
// gateway's production path (its own read-only pool from a connection string).
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { apiTime, isoMicros, type SeededReports, seedReports } from './support/seed-reports.js';

const NOW = 1_749_999_600; // 2025-06-15T15:00:00Z, the newest leaderboard pass
const US = 1_000_000;

let db: TestDatabase;
let app: Gateway;

beforeAll(async () => {
  db = await createTestDatabase();
  // Every request checks which leaderboard is newest, so a new one shows at once.
  app = await buildGateway({ db: db.url, rateLimit: false, leaderboardMaxAgeMs: 0 });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function get(url: string) {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.json() };
}

describe('before the first pass', () => {
  it('serves empty arrays, not errors', async () => {
    for (const url of ['/reports/models', '/reports/leaderboard', '/reports/models/global?projectIds=m1']) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.body, url).toEqual([]);
    }
  });
});

describe('on a seeded database', () => {
  let seeded: SeededReports;
  beforeAll(async () => {
    seeded = await seedReports(db.pool, { now: NOW });
  });

  const inRange = (us: number, from: number, to: number) => us >= from * US && us <= to * US;

  const expectedGlobal = (ids: string[], from: number, to: number) =>
    seeded.snapshots
      .filter((s) => ids.includes(s.modelId) && inRange(s.asOfUs, from, to))
      .sort((a, b) => a.asOfUs - b.asOfUs || a.modelId.localeCompare(b.modelId))
      .map((s) => ({
        model_id: s.modelId,
        score_recent: s.recent,
        score_steady: s.steady,
        score_anchor: s.anchor,
        performed_at: apiTime(s.asOfUs),
      }));

  it('/reports/models lists every model with cruncher and latest deployment, by id', async () => {
    const response = await get('/reports/models');
    expect(response.status).toBe(200);
    expect(response.type).toBe('application/json; charset=utf-8');
    expect(response.body).toEqual(
      seeded.models.map((m) => ({
        model_id: m.modelId,
        model_name: m.name,
        cruncher_name: m.cruncherName,
        cruncher_id: m.cruncherId,
        deployment_id: m.deploymentId,
      })),
    );
    // The seed has models without a cruncher and one never deployed: nulls, not missing fields.
    expect(response.body.some((m: { cruncher_name: unknown }) => m.cruncher_name === null)).toBe(true);
    expect(response.body.at(-1).deployment_id).toBeNull();
  });

  it('/reports/leaderboard is the newest leaderboard, by rank, with names', async () => {
    const newest = seeded.leaderboards.at(-1)!;
    const names = new Map(seeded.models.map((m) => [m.modelId, m]));
    const response = await get('/reports/leaderboard');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      newest.entries.map((e) => ({
        created_at: apiTime(newest.createdAtUs),
        model_id: e.modelId,
        score_recent: e.recent,
        score_steady: e.steady,
        score_anchor: e.anchor,
        rank: e.rank,
        model_name: names.get(e.modelId)!.name,
        cruncher_name: names.get(e.modelId)!.cruncherName,
      })),
    );
    expect(response.body.map((e: { rank: number }) => e.rank)).toEqual(newest.entries.map((_, i) => i + 1));
    // Published 30.123456 s after the pass: microseconds survive, UTC with an explicit offset.
    expect(response.body[0].created_at).toBe('2025-06-15T15:00:30.123456+00:00');
  });

  it('/reports/models/global answers the exact query strings the CrunchDAO UI sends, all alike', async () => {
    // MetricsDashboard: the last 30 days as Date.toISOString(), the selected models comma-joined, through
    // URLSearchParams (proxyGet) or axios params (which leaves ':' and ',' unescaped); other clients
    // repeat the parameter, axios arrays bracket it; newer UIs add include_ensembles.
    const queries = [
      'projectIds=model-0001%2Cmodel-0003&start=2025-05-16T15%3A00%3A00.000Z&end=2025-06-15T15%3A00%3A00.000Z',
      'projectIds=model-0001,model-0003&start=2025-05-16T15:00:00.000Z&end=2025-06-15T15:00:00.000Z',
      'projectIds=model-0001&projectIds=model-0003&start=2025-05-16T15:00:00.000Z&end=2025-06-15T15:00:00.000Z',
      'projectIds%5B%5D=model-0001&projectIds%5B%5D=model-0003&start=2025-05-16T15:00:00.000Z&end=2025-06-15T15:00:00.000Z',
      'projectIds=model-0001,model-0003&start=2025-05-16T15:00:00.000Z&end=2025-06-15T15:00:00.000Z&include_ensembles=true',
    ];
    const expected = expectedGlobal(['model-0001', 'model-0003'], NOW - 30 * 86_400, NOW);
    expect(expected.length).toBe(2 * 73); // 3 days of hourly passes, both ends included
    for (const query of queries) {
      const response = await get(`/reports/models/global?${query}`);
      expect(response.status, query).toBe(200);
      expect(response.body, query).toEqual(expected);
    }
    // Ordered by time (upstream returned them grouped by model, unordered).
    const times = expected.map((row) => row.performed_at);
    expect([...times].sort()).toEqual(times);
  });

  it('reads start and end as inclusive, in ISO-8601 with any offset or unix seconds alike', async () => {
    const from = NOW - 86_400;
    const to = NOW - 3_600;
    const expected = expectedGlobal(['model-0002'], from, to);
    expect(expected.length).toBe(24);
    for (const [start, end] of [
      [String(from), String(to)],
      ['2025-06-14T17:00:00+02:00', '2025-06-15T09:00:00-05:00'],
      ['2025-06-14T15:00:00.000000Z', '2025-06-15 14:00:00'],
    ] as const) {
      const response = await get(
        `/reports/models/global?projectIds=model-0002&start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`,
      );
      expect(response.body, `${start} .. ${end}`).toEqual(expected);
    }
  });

  it('/reports/models/params gives each group of each snapshot, by time, model, then group order', async () => {
    const response = await get(
      '/reports/models/params?projectIds=model-0002%2Cmodel-0009&start=2025-06-15T10%3A00%3A00.000Z&end=2025-06-15T15%3A00%3A00.000Z',
    );
    const expected = seeded.snapshots
      .filter((s) => s.modelId === 'model-0002' && inRange(s.asOfUs, NOW - 5 * 3600, NOW))
      .flatMap((s) =>
        s.groups.map((g) => ({
          model_id: s.modelId,
          param: `${g.asset}-${g.horizon}-${g.step}`,
          asset: g.asset,
          horizon: g.horizon,
          step: g.step,
          score_recent: g.recent,
          score_steady: g.steady,
          score_anchor: g.anchor,
          performed_at: apiTime(s.asOfUs),
        })),
      );
    expect(response.status).toBe(200);
    expect(expected.length).toBe(6 * 8);
    expect(response.body).toEqual(expected);
    expect(response.body[0].param).toBe('BTC-86400-300');
    expect(response.body[5].param).toBe('ETH-3600-60');
  });

  it('/reports/predictions lists one model’s scored predictions by time, with score_failed and score_success', async () => {
    const query =
      'projectIds=model-0002&start=2025-05-16T15%3A00%3A00.000Z&end=2025-06-15T15%3A00%3A00.000Z&include_ensembles=true';
    const response = await get(`/reports/predictions?${query}`);
    const expected = seeded.predictions
      .map((p, index) => ({ p, index }))
      .filter(({ p }) => p.modelId === 'model-0002' && p.score !== null)
      .sort((a, b) => a.p.performedAtUs - b.p.performedAtUs || a.index - b.index)
      .map(({ p }) => ({
        model_id: p.modelId,
        param: `${p.asset}-${p.horizon}-${p.step}`,
        asset: p.asset,
        horizon: p.horizon,
        step: p.step,
        score_value: p.score!.value,
        score_failed: !p.score!.success,
        score_success: p.score!.success,
        score_failed_reason: p.score!.failedReason,
        scored_at: apiTime(p.score!.scoredAtUs),
        performed_at: apiTime(p.performedAtUs),
      }));
    expect(response.status).toBe(200);
    expect(expected.length).toBeGreaterThan(500);
    expect(response.body).toEqual(expected);
    // Failed scores are there with their reasons; predictions not yet resolvable are not.
    const failed = response.body.filter((row: { score_failed: boolean }) => row.score_failed);
    expect(failed.length).toBeGreaterThan(10);
    expect(new Set(failed.map((row: { score_failed_reason: string }) => row.score_failed_reason))).toEqual(
      new Set([
        'The prediction not succeed PredictionStatus.FAILED',
        'The prediction not succeed PredictionStatus.TIMEOUT',
        'The prediction not succeed PredictionStatus.ABSENT',
        'mixture weights must be >= 0 and sum to 1',
      ]),
    );
    expect(seeded.predictions.some((p) => p.modelId === 'model-0002' && p.score === null)).toBe(true);
  });

  it('/reports/predictions bounds are exact to the microsecond', async () => {
    const some = seeded.predictions.find((p) => p.modelId === 'model-0001' && p.score !== null)!;
    const at = isoMicros(some.performedAtUs);
    const just = await get(`/reports/predictions?projectIds=model-0001&start=${at}&end=${at}`);
    expect(just.body.map((row: { performed_at: string }) => row.performed_at)).toContain(apiTime(some.performedAtUs));
    const after = isoMicros(some.performedAtUs + 1);
    const none = await get(`/reports/predictions?projectIds=model-0001&start=${after}&end=${after}`);
    expect(none.body.map((row: { performed_at: string }) => row.performed_at)).not.toContain(
      apiTime(some.performedAtUs),
    );
  });

  it('/reports/predictions refuses several models with a clear 400, in either form', async () => {
    for (const query of ['projectIds=model-0001%2Cmodel-0002', 'projectIds=model-0001&projectIds=model-0002']) {
      const response = await get(`/reports/predictions?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message:
          '/reports/predictions serves one model at a time, but projectIds names 2 (model-0001, model-0002); ask once per model',
      });
    }
  });

  it('refuses missing ids, bad times and too many ids with 400 and a message', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/reports/models/global', /projectIds is required/],
      ['/reports/models/params?projectIds=', /projectIds is required/],
      ['/reports/predictions?projectIds=%2C', /projectIds is required/],
      ['/reports/models/global?projectIds=model-0001&start=last%20week', /start=last week is not a time/],
      ['/reports/models/global?projectIds=model-0001&end=2025-02-30', /not a valid date/],
      ['/reports/models/global?projectIds=model-0001&end=%201750000000', /end= 1750000000 is not a time/],
      ['/reports/models/global?projectIds=a,' + 'b,'.repeat(100), /at most 100 ids/],
      ['/reports/models/global?projectIds=model-0001&start=a&start=b', /querystring\/start must be string/],
    ];
    for (const [url, message] of cases) {
      const response = await get(url);
      expect(response.status, url).toBe(400);
      expect(response.body.message, url).toMatch(message);
    }
  });

  it('answers a start after the end with an empty list', async () => {
    const response = await get(
      '/reports/models/global?projectIds=model-0001&start=2025-06-15T00:00:00Z&end=2025-06-14T00:00:00Z',
    );
    expect(response).toMatchObject({ status: 200, body: [] });
  });

  it('answers unknown models with an empty list, as upstream does', async () => {
    const response = await get('/reports/models/global?projectIds=nobody&start=0');
    expect(response).toMatchObject({ status: 200, body: [] });
  });
});

describe('default range', () => {
  it('is the last 7 days up to now when start and end are left out', async () => {
    const now = Date.now() / 1000;
    await db.pool.query(sql.unsafe`INSERT INTO models (model_id, name) VALUES ('fresh-model', 'fresh')`);
    // 8 and 6 days ago, an hour ago, and an hour ahead (a clock skewed writer): only the middle two are in.
    for (const offset of [-8 * 86_400, -6 * 86_400, -3_600, 3_600]) {
      await db.pool.query(sql.unsafe`
        INSERT INTO model_score_snapshots (model_id, as_of, score_recent) VALUES ('fresh-model', to_timestamp(${now + offset}), ${offset})
      `);
    }
    const response = await get('/reports/models/global?projectIds=fresh-model');
    expect(response.body.map((row: { score_recent: number }) => row.score_recent)).toEqual([-6 * 86_400, -3_600]);
    // A given end counts the 7 days back from it.
    const fromEnd = await get(`/reports/models/global?projectIds=fresh-model&end=${Math.round(now - 7 * 86_400)}`);
    expect(fromEnd.body.map((row: { score_recent: number }) => row.score_recent)).toEqual([-8 * 86_400]);
  });
});

describe('leaderboard freshness', () => {
  it('serves a new leaderboard from the first request after it is committed, and a rewrite in place', async () => {
    const before = await get('/reports/leaderboard');
    const builds = app.leaderboardCache.stats.builds;
    // Repeated requests of an unchanged leaderboard reuse the cached body.
    for (let i = 0; i < 5; i++) await get('/reports/leaderboard');
    expect(app.leaderboardCache.stats.builds).toBe(builds);

    await db.pool.query(sql.unsafe`
      WITH board AS (
        INSERT INTO leaderboards (as_of, created_at) VALUES (to_timestamp(${NOW + 3600}), to_timestamp(${NOW + 3630}))
        RETURNING id
      )
      INSERT INTO leaderboard_entries (leaderboard_id, rank, model_id, score_recent, score_steady, score_anchor)
      SELECT board.id, 1, 'model-0004', 0, 0, 0 FROM board
    `);
    const next = await get('/reports/leaderboard');
    expect(next.body).toEqual([
      {
        created_at: '2025-06-15T16:00:30.000000+00:00',
        model_id: 'model-0004',
        score_recent: 0,
        score_steady: 0,
        score_anchor: 0,
        rank: 1,
        model_name: 'tracker-4',
        cruncher_name: 'Cruncher 4',
      },
    ]);
    expect(next.body).not.toEqual(before.body);

    // A re-run pass for the same as_of that rewrites the row and its entries in place.
    await db.pool.transaction(async (tx) => {
      const id = await tx.oneFirst(
        sql.unsafe`UPDATE leaderboards SET created_at = to_timestamp(${NOW + 3700}) WHERE as_of = to_timestamp(${NOW + 3600}) RETURNING id`,
      );
      await tx.query(
        sql.unsafe`UPDATE leaderboard_entries SET score_recent = 1.5 WHERE leaderboard_id = ${id as number}`,
      );
    });
    const rewritten = await get('/reports/leaderboard');
    expect(rewritten.body[0]).toMatchObject({ score_recent: 1.5, created_at: '2025-06-15T16:01:40.000000+00:00' });
  });

  it('with a reuse window, serves a new leaderboard once the window has passed', async () => {
    const windowed = await buildGateway({ db: db.url, rateLimit: false, leaderboardMaxAgeMs: 100 });
    try {
      const before = (await windowed.inject('/reports/leaderboard')).json();
      await db.pool.query(sql.unsafe`
        WITH board AS (
          INSERT INTO leaderboards (as_of) VALUES (to_timestamp(${NOW + 7200})) RETURNING id
        )
        INSERT INTO leaderboard_entries (leaderboard_id, rank, model_id) SELECT board.id, 1, 'model-0005' FROM board
      `);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const after = (await windowed.inject('/reports/leaderboard')).json();
      expect(before[0].model_id).toBe('model-0004');
      expect(after).toMatchObject([{ model_id: 'model-0005', rank: 1, score_recent: null, cruncher_name: null }]);
    } finally {
      await windowed.close();
    }
  });

  it('shares freshness probes among concurrent requests, and every answer is the committed leaderboard', async () => {
    const probes = app.leaderboardCache.stats.probes;
    const responses = await Promise.all(Array.from({ length: 40 }, () => get('/reports/leaderboard')));
    for (const response of responses) expect(response.body[0].model_id).toBe('model-0005');
    const used = app.leaderboardCache.stats.probes - probes;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThan(40);
  });
});
