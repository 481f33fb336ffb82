// The dashboard's files (caching headers, revalidation) and the two read-only routes it adds, on a
// seeded database. The page itself is driven in a browser by dashboard-browser.test.ts.
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { apiTime, type SeededReports, seedReports } from './support/seed-reports.js';

let database: TestDatabase;
let seeded: SeededReports;
let gateway: Gateway;

beforeAll(async () => {
  database = await createTestDatabase();
  seeded = await seedReports(database.pool, { models: 5, predictionModels: 3, predictionDays: 1 });
  await database.pool.query(sql.unsafe`
    INSERT INTO prices (asset, ts, price)
    SELECT asset, to_timestamp(${seeded.nowUs / 1e6} - 60 * m), 100 + m
    FROM unnest(ARRAY['BTC', 'ETH', 'XAU', 'SOL', 'DOGE']) AS asset, generate_series(0, 9) AS m
  `);
  gateway = await buildGateway({ db: database.url, dashboard: { temporalUiUrl: 'http://ui.example:8233' } });
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

describe('dashboard files', () => {
  it('serves the page for revalidation and its assets, named by content, as immutable', async () => {
    const page = await gateway.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('data-temporal-ui="http://ui.example:8233"');
    const again = await gateway.inject({ url: '/', headers: { 'if-none-match': String(page.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const assets = [...page.body.matchAll(/(?:src|href)="(\/dashboard\/[\w.]+)\?v=(\w+)"/g)];
    expect(assets.map(([, path]) => path).sort()).toEqual([
      '/dashboard/app.css',
      '/dashboard/app.js',
      '/dashboard/uplot.css',
      '/dashboard/uplot.js',
    ]);
    for (const [, path, version] of assets) {
      const file = await gateway.inject(path!);
      expect(file.statusCode).toBe(200);
      expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(String(file.headers.etag)).toContain(version);
    }
    expect((await gateway.inject('/dashboard/uplot.js')).body).toContain('uPlot');
  });

  it('refuses other file names and can be turned off', async () => {
    expect((await gateway.inject('/dashboard/..%2Fapp.ts')).statusCode).toBe(400);
    const bare = await buildGateway({ db: database.pool, dashboard: false });
    try {
      expect((await bare.inject('/')).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe('/reports/cycles', () => {
  it('lists the newest cycles with their statuses, newest first', async () => {
    const response = await gateway.inject('/reports/cycles?limit=5');
    expect(response.statusCode).toBe(200);
    const cycles = response.json() as Array<{
      scheduled_at: string;
      on_time: boolean;
      models_called: number;
      predictions: number;
      success: number;
      failed: number;
      timeout: number;
      absent: number;
    }>;
    expect(cycles).toHaveLength(5);
    // The seed stores each prediction's cycle as its call time truncated to the second.
    const byCycle = new Map<number, typeof seeded.predictions>();
    for (const p of seeded.predictions) {
      const cycle = Math.floor(p.performedAtUs / 1e6) * 1e6;
      byCycle.set(cycle, [...(byCycle.get(cycle) ?? []), p]);
    }
    const newest = [...byCycle.keys()].sort((a, b) => b - a).slice(0, 5);
    expect(cycles.map((c) => c.scheduled_at)).toEqual(newest.map(apiTime));
    for (const [i, cycle] of cycles.entries()) {
      const rows = byCycle.get(newest[i]!)!;
      expect(cycle.predictions).toBe(rows.length);
      expect(cycle.models_called).toBe(new Set(rows.map((p) => p.modelId)).size);
      expect(cycle.success + cycle.failed + cycle.timeout + cycle.absent).toBe(rows.length);
      expect(cycle.on_time).toBe(true);
    }
    expect((await gateway.inject('/reports/cycles?late_after=0.1&limit=200')).json()).toContainEqual(
      expect.objectContaining({ on_time: false }),
    );
    expect((await gateway.inject('/reports/cycles?limit=0')).statusCode).toBe(400);
  });
});

describe('/reports/prices/tail', () => {
  it("gives the newest points of each predicted asset, newest first, and none of others'", async () => {
    const points = (await gateway.inject('/reports/prices/tail?limit=3')).json() as Array<{
      asset: string;
      ts: string;
      price: number;
    }>;
    const now = seeded.nowUs / 1e6;
    expect(points).toEqual(
      ['BTC', 'ETH', 'SOL', 'XAU'].flatMap((asset) =>
        [0, 1, 2].map((m) => ({ asset, ts: apiTime((now - 60 * m) * 1e6), price: 100 + m })),
      ),
    );
    expect((await gateway.inject('/reports/prices/tail?limit=1441')).statusCode).toBe(400);
  });
});
