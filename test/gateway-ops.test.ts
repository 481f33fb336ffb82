// The gateway's operational side on a real PostgreSQL: /healthz, /metrics, /docs, CORS, rate limiting,
// read-only access and statement timeouts (own pool and a caller's pool), and a database that is down.
import pg from 'pg';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway, type GatewayOptions } from '../gateway/app.js';
import { openReadOnlyDatabase } from '../gateway/database.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { type SeededReports, seedReports } from './support/seed-reports.js';

const US = 1_000_000;
let db: TestDatabase;
let seeded: SeededReports;
const apps: Gateway[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  seeded = await seedReports(db.pool, { models: 4, predictionModels: 1, predictionDays: 1, snapshotDays: 1 });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await db?.drop();
});

async function gateway(options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const app = await buildGateway({ db: db.url, rateLimit: false, ...options });
  apps.push(app);
  return app;
}

describe('/healthz', () => {
  it('is 200 when the database and Temporal answer, and says the database session is read-only', async () => {
    const app = await gateway({ temporal: { check: async () => {} } });
    const response = await app.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ok',
      database: { status: 'up', read_only: true, error: null, latency_ms: expect.any(Number) },
      temporal: { status: 'up', error: null, latency_ms: expect.any(Number) },
    });
  });

  it('is 503 naming Temporal when it fails or does not answer in time', async () => {
    const failing = await gateway({
      temporal: {
        check: async () => {
          throw new Error('14 UNAVAILABLE: connection refused');
        },
      },
    });
    const failed = await failing.inject('/healthz');
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toMatchObject({
      status: 'unavailable',
      database: { status: 'up' },
      temporal: { status: 'down', error: '14 UNAVAILABLE: connection refused', latency_ms: null },
    });

    const hanging = await gateway({ temporal: { check: () => new Promise(() => {}) }, healthTimeoutMs: 200 });
    const hung = await hanging.inject('/healthz');
    expect(hung.statusCode).toBe(503);
    expect(hung.json().temporal).toEqual({ status: 'down', latency_ms: null, error: 'no answer within 200 ms' });
  });

  it('reports Temporal as not configured (and stays 200) when no check is given', async () => {
    const app = await gateway();
    const response = await app.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json().temporal).toEqual({ status: 'not configured', latency_ms: null, error: null });
  });
});

describe('a database that is down', () => {
  it('does not stop the gateway starting; reports are 503 with a message and /healthz names the database', async () => {
    const app = await gateway({ db: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const health = await app.inject('/healthz');
    expect(health.statusCode).toBe(503);
    expect(health.json().database).toMatchObject({ status: 'down', error: expect.stringContaining('ECONNREFUSED') });
    for (const url of ['/reports/models', '/reports/leaderboard', '/reports/models/global?projectIds=a']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(503);
      expect(response.json(), url).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the database is unavailable',
      });
    }
    // Metrics still answer, with freshness unknown.
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    // prom-client writes NaN as "Nan", which Prometheus reads (Go's ParseFloat ignores case).
    expect(metrics.body).toMatch(/^coordinator_leaderboard_age_seconds Nan$/m);
  });

  it('is a 503, not a 500, for a database that does not exist', async () => {
    const app = await gateway({ db: db.url.replace(/\/[^/]+$/, '/no_such_database') });
    const response = await app.inject('/reports/models');
    expect(response.statusCode).toBe(503);
  });
});

describe('read-only access and statement timeouts', () => {
  const write = sql.unsafe`INSERT INTO models (model_id, name) VALUES ('intruder', 'x')`;

  it('refuses writes on the gateway’s own pool (server-side default_transaction_read_only)', async () => {
    const readOnly = await openReadOnlyDatabase(db.url, { statementTimeoutMs: 5_000, maximumPoolSize: 2 });
    try {
      await expect(readOnly.read((c) => c.query(write))).rejects.toThrow(/read-only transaction/);
    } finally {
      await readOnly.close();
    }
  });

  it('refuses writes on a caller’s pool inside the request only, leaving the pool writable for its owner', async () => {
    const readOnly = await openReadOnlyDatabase(db.pool, { statementTimeoutMs: 5_000, maximumPoolSize: 2 });
    await expect(readOnly.read((c) => c.query(write))).rejects.toThrow(/read-only transaction/);
    await readOnly.close();
    await db.pool.query(sql.unsafe`INSERT INTO models (model_id, name) VALUES ('owner-write', 'x')`);
    await db.pool.query(sql.unsafe`DELETE FROM models WHERE model_id = 'owner-write'`);
  });

  for (const mode of ['own pool', 'caller’s pool'] as const) {
    it(`answers 503 when a query outlives the statement timeout (${mode})`, async () => {
      const app = await gateway({ db: mode === 'own pool' ? db.url : db.pool, statementTimeoutMs: 300 });
      // A writer holding an exclusive lock keeps the report query waiting past the timeout. A plain pg
      // client holds it: inside a slonik transaction, slonik would refuse the gateway's own pool.
      const writer = new pg.Client({ connectionString: db.url });
      await writer.connect();
      try {
        await writer.query('BEGIN');
        await writer.query('LOCK TABLE model_score_snapshots IN ACCESS EXCLUSIVE MODE');
        const response = await app.inject('/reports/models/global?projectIds=model-0001');
        expect(response.statusCode).toBe(503);
        expect(response.json().message).toMatch(/statement timeout/);
      } finally {
        await writer.query('ROLLBACK');
        await writer.end();
      }
      // And serves again once the lock is gone.
      expect((await app.inject('/reports/models/global?projectIds=model-0001')).statusCode).toBe(200);
    });
  }

  it('serves the same reports on a caller’s pool, and leaves that pool open when it closes', async () => {
    const own = await gateway();
    const shared = await buildGateway({ db: db.pool, rateLimit: false });
    for (const url of [
      '/reports/leaderboard',
      '/reports/models',
      '/reports/predictions?projectIds=model-0001&start=0',
    ]) {
      expect((await shared.inject(url)).body, url).toBe((await own.inject(url)).body);
    }
    await shared.close();
    expect(await db.pool.oneFirst(sql.unsafe`SELECT 1 AS one`)).toBe(1);
  });
});

describe('/metrics', () => {
  it('counts requests per route pattern and status, and times them', async () => {
    const app = await gateway();
    for (let i = 0; i < 3; i++) await app.inject('/reports/models');
    await app.inject('/reports/models/model-0001');
    await app.inject('/reports/models/model-0002');
    await app.inject('/reports/models/global');
    await app.inject('/not/here');
    const body = (await app.inject('/metrics')).body;
    const line = (route: string, status: number) =>
      `gateway_http_requests_total{method="GET",route="${route}",status_code="${status}"}`;
    expect(body).toContain(`${line('/reports/models', 200)} 3\n`);
    // Ids are not labels: both detail requests count under the pattern.
    expect(body).toContain(`${line('/reports/models/:id', 200)} 2\n`);
    expect(body).toContain(`${line('/reports/models/global', 400)} 1\n`);
    expect(body).toContain(`${line('unmatched', 404)} 1\n`);
    expect(body).toContain(
      'gateway_http_request_duration_seconds_count{method="GET",route="/reports/models",status_code="200"} 3\n',
    );
    expect(body).toMatch(/^gateway_nodejs_eventloop_lag_seconds /m);
    // The event loop's delay p99 since the last scrape: what a request or a model deadline waited at worst.
    expect(body).toMatch(/^gateway_nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it('reports the leaderboard age and the predict-cycle lag from the database', async () => {
    const app = await gateway();
    const newestLeaderboard = seeded.leaderboards.at(-1)!.createdAtUs / US;
    const newestPrediction = Math.max(...seeded.predictions.map((p) => p.performedAtUs)) / US;
    const before = Date.now() / 1000;
    const body = (await app.inject('/metrics')).body;
    const after = Date.now() / 1000;
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1]);
    // Bounded by the clock read around the scrape (one machine: PostgreSQL's clock is ours, give or take a second).
    expect(value('coordinator_leaderboard_age_seconds')).toBeGreaterThanOrEqual(before - newestLeaderboard - 1);
    expect(value('coordinator_leaderboard_age_seconds')).toBeLessThanOrEqual(after - newestLeaderboard + 1);
    expect(value('coordinator_predict_cycle_lag_seconds')).toBeGreaterThanOrEqual(before - newestPrediction - 1);
    expect(value('coordinator_predict_cycle_lag_seconds')).toBeLessThanOrEqual(after - newestPrediction + 1);
  });
});

describe('/docs', () => {
  it('publishes OpenAPI 3.1 with every route and its parameters, and serves Swagger UI', async () => {
    const app = await gateway();
    const spec = (await app.inject('/docs/json')).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths).sort()).toEqual([
      '/healthz',
      '/info',
      '/metrics',
      '/reports/checkpoints',
      '/reports/checkpoints/latest',
      '/reports/checkpoints/rewards',
      '/reports/checkpoints/{id}',
      '/reports/checkpoints/{id}/confirm',
      '/reports/checkpoints/{id}/emission',
      '/reports/checkpoints/{id}/emission/cli-format',
      '/reports/checkpoints/{id}/payload',
      '/reports/checkpoints/{id}/prizes',
      '/reports/checkpoints/{id}/status',
      '/reports/cycles',
      '/reports/emissions/latest',
      '/reports/feeds',
      '/reports/feeds/tail',
      '/reports/leaderboard',
      '/reports/merkle/cycles',
      '/reports/merkle/cycles/{id}',
      '/reports/merkle/proof',
      '/reports/models',
      '/reports/models/global',
      '/reports/models/params',
      '/reports/models/{id}',
      '/reports/predictions',
      '/reports/prices/tail',
      '/reports/schema',
      '/reports/snapshots',
    ]);
    const parameters = spec.paths['/reports/predictions'].get.parameters.map((p: { name: string }) => p.name);
    expect(parameters).toEqual(expect.arrayContaining(['projectIds', 'start', 'end']));
    const item = spec.paths['/reports/leaderboard'].get.responses['200'].content['application/json'].schema.items;
    expect(Object.keys(item.properties)).toEqual([
      'created_at',
      'model_id',
      'score_recent',
      'score_steady',
      'score_anchor',
      'rank',
      'model_name',
      'cruncher_name',
    ]);
    const ui = await app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.body).toContain('swagger');
  });
});

describe('CORS', () => {
  it('allows any origin by default (public, read-only data, no credentials)', async () => {
    const app = await gateway();
    const response = await app.inject({ url: '/reports/models', headers: { origin: 'https://ui.example' } });
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('allows only the configured origins, preflight included', async () => {
    const app = await gateway({ cors: { origins: ['https://hub.crunchdao.com'] } });
    const allowed = await app.inject({ url: '/reports/models', headers: { origin: 'https://hub.crunchdao.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://hub.crunchdao.com');
    const other = await app.inject({ url: '/reports/models', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/reports/leaderboard',
      headers: { origin: 'https://hub.crunchdao.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS, POST, PATCH');
  });

  it('sends no CORS headers when disabled', async () => {
    const app = await gateway({ cors: false });
    const response = await app.inject({ url: '/reports/models', headers: { origin: 'https://ui.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limiting', () => {
  it('answers 429 with a JSON message past the limit, per client address; health and metrics are exempt', async () => {
    const app = await gateway({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.inject('/reports/leaderboard')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await app.inject('/reports/models');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.any(String) });
    // Another client address has its own budget.
    expect((await app.inject({ url: '/reports/models', remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      expect((await app.inject('/metrics')).statusCode).toBe(200);
    }
  });
});
