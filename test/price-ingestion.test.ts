// Price ingestion against a local server speaking pricedb's format that misbehaves as the price API
// does: it goes down, skips minutes, serves the minute in progress, corrects a past point, serves an
// outlier, freezes and answers 50 MB. For each: what is stored (real PostgreSQL), and what /healthz and
// /metrics say. The ingestion runs as the activity does, on simulated minutes ending at the real clock.
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMarketDataActivities, type SyncPricesResult } from '../activities/market-data.js';
import { createScoreListingActivities, createScoringActivities } from '../activities/scoring.js';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { applyPriceCorrections } from '../lib/db/index.js';
import { condor, PriceSeries } from '../lib/game/index.js';
import { createPriceSource } from '../lib/market-data/index.js';
import {
  insertModels,
  insertPlannedPredictions,
  norm,
  predictionsWithScores,
  referenceScore,
} from './leaderboard-support.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { type AssetScript, type PriceDbServer, startPriceDbServer } from './support/pricedb-server.js';

/** The current whole minute of the real clock: /healthz measures ages from the database's now(). */
const NOW = Math.floor(Date.now() / 60_000) * 60;
/** The middle of minute NOW + k·60: the minute starting there is in progress. */
const at = (k: number) => NOW + k * 60 + 30;
/** Small regular moves, the same for every run. */
const wave = (base: number) => (ts: number) => base * (1 + 0.0002 * ((ts / 60) % 7));

let db: TestDatabase;
let server: PriceDbServer;
let second: PriceDbServer;
let gateway: Gateway;
let clock = at(0);
type Activities = ReturnType<typeof createMarketDataActivities>;
let single: Activities;
let crossChecked: Activities;
const ingestion = { repairWindowSeconds: 300, maxJump: () => 0.05, maxDivergence: 0.01 };

beforeAll(async () => {
  [db, server, second] = await Promise.all([
    createTestDatabase(),
    startPriceDbServer(() => clock),
    startPriceDbServer(() => clock),
  ]);
  single = createMarketDataActivities({
    db: db.pool,
    source: await createPriceSource(`pricedb:${server.url}`),
    historySeconds: 1800,
    ingestion,
  });
  crossChecked = createMarketDataActivities({
    db: db.pool,
    source: await createPriceSource(`pricedb:${server.url}|pricedb:${second.url}`),
    historySeconds: 1800,
    ingestion,
  });
  gateway = await buildGateway({ db: db.pool, rateLimit: false });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([server?.close(), second?.close()]);
  await db?.drop();
});

function script(asset: string, value: AssetScript, on = server): AssetScript {
  on.scripts.set(asset, value);
  return value;
}

function sync(assets: string[], untilSec: number, activities = single): Promise<SyncPricesResult> {
  clock = untilSec;
  return new MockActivityEnvironment().run(activities.syncPrices, { assets, untilSec });
}

const storedRow = z.object({ ts: z.number(), price: z.number(), source: z.string() });
async function stored(asset: string) {
  return db.pool.any(sql.type(storedRow)`
    SELECT extract(epoch FROM ts)::float8 AS ts, price, source FROM prices WHERE asset = ${asset} ORDER BY ts
  `);
}

/** Every stored point is a closed minute at its final value, from pricedb. */
async function expectFinalCloses(asset: string, price: (ts: number) => number, untilSec: number) {
  const rows = await stored(asset);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.ts + 60).toBeLessThanOrEqual(untilSec);
    expect(row.price).toBe(price(row.ts));
    expect(row.source).toBe('pricedb');
  }
  return rows;
}

const feedSchema = z.object({
  asset: z.string(),
  status: z.string(),
  newest_ts: z.string().nullable(),
  newest_source: z.string().nullable(),
  diverging: z.boolean(),
  divergence: z.number().nullable(),
  points_held: z.number(),
  corrections_pending: z.number(),
  error: z.string().nullable(),
});
async function health() {
  const response = await gateway.inject('/healthz');
  expect(response.statusCode).toBe(200);
  const body = response.json() as { status: string; feeds: unknown[] };
  const feeds = new Map(body.feeds.map((feed) => feedSchema.parse(feed)).map((feed) => [feed.asset, feed]));
  return { status: body.status, feed: (asset: string) => feeds.get(asset)! };
}

async function metric(name: string, asset: string): Promise<number> {
  const text = (await gateway.inject('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{asset="${asset}"}`));
  if (!line) throw new Error(`no ${name} for ${asset} in /metrics`);
  return Number(line.split(' ').at(-1));
}

describe('price ingestion against a misbehaving pricedb', () => {
  it('goes down: nothing is made up, the feed shows failing, the gap is filled when it is back', async () => {
    const btc = script('BTC', { price: wave(50_000) });
    await sync(['BTC'], at(-10));
    const before = await expectFinalCloses('BTC', btc.price, at(-10));
    expect(before.at(-1)!.ts).toBe(NOW - 11 * 60);

    btc.down = true;
    await expect(sync(['BTC'], at(0))).rejects.toThrow(/no price source answered for BTC: .*503 Service Unavailable/);
    expect(await stored('BTC')).toEqual(before);
    const down = await health();
    expect(down.status).toBe('degraded');
    expect(down.feed('BTC').status).toBe('failing');
    expect(down.feed('BTC').error).toMatch(/maintenance/);
    expect(await metric('coordinator_price_feed_ok', 'BTC')).toBe(0);

    btc.down = false;
    const back = await sync(['BTC'], at(0));
    expect(back.stored.BTC).toBe(10);
    const after = await expectFinalCloses('BTC', btc.price, at(0));
    expect(after.at(-1)!.ts).toBe(NOW - 60);
    // Every minute of the outage is there, from the real source.
    expect(after.map((row) => row.ts).slice(-11)).toEqual(Array.from({ length: 11 }, (_, i) => NOW - 660 + i * 60));
    expect((await health()).feed('BTC').status).toBe('ok');
    expect(await metric('coordinator_price_feed_ok', 'BTC')).toBe(1);
  });

  it('skips minutes: a minute published late within the repair window is filled', async () => {
    const late = NOW - 240;
    const never = NOW - 1200;
    const eth = script('ETH', { price: wave(3_000), skip: new Set([late, never]) });
    await sync(['ETH'], at(-2));
    let times = (await stored('ETH')).map((row) => row.ts);
    expect(times).not.toContain(late);
    expect(times).toContain(late - 60);
    expect(times).toContain(late + 60);

    eth.skip = new Set();
    await sync(['ETH'], at(0));
    times = (await expectFinalCloses('ETH', eth.price, at(0))).map((row) => row.ts);
    expect(times).toContain(late);
    // Older than the repair window: it stays a gap (settlement keeps scores off it).
    expect(times).not.toContain(never);
    expect((await health()).feed('ETH')).toMatchObject({ status: 'ok', newest_source: 'pricedb' });
  });

  it('serves the minute in progress: only closed minutes are stored, at their final close', async () => {
    const sol = script('SOL', { price: wave(150) });
    await sync(['SOL'], at(-1));
    let rows = await expectFinalCloses('SOL', sol.price, at(-1));
    expect(rows.at(-1)!.ts).toBe(NOW - 120);
    await sync(['SOL'], at(0));
    rows = await expectFinalCloses('SOL', sol.price, at(0));
    expect(rows.at(-1)!.ts).toBe(NOW - 60);
    // /healthz shows the newest settled point: the last closed minute, not the one in progress.
    expect((await health()).feed('SOL')).toMatchObject({
      status: 'ok',
      newest_ts: new Date((NOW - 60) * 1000).toISOString().replace('.000Z', '.000000+00:00'),
    });
  });

  it('corrects a past point: logged and counted, applied only when an operator asks', async () => {
    const xau = script('XAU', { price: wave(2_650) });
    await sync(['XAU'], at(-1));
    const corrected = NOW - 240;
    xau.override = new Map([[corrected, 2_700]]);
    const result = await sync(['XAU'], at(0));
    expect(result.corrections.XAU).toBe(1);
    expect((await stored('XAU')).find((row) => row.ts === corrected)!.price).toBe(xau.price(corrected));
    // Seen again on the next run: still one correction.
    expect((await sync(['XAU'], at(0))).corrections.XAU).toBe(0);
    expect((await health()).feed('XAU').corrections_pending).toBe(1);
    expect(await metric('coordinator_price_corrections_pending', 'XAU')).toBe(1);

    expect(await applyPriceCorrections(db.pool, corrected, corrected)).toEqual([{ asset: 'XAU', ts: corrected }]);
    expect((await stored('XAU')).find((row) => row.ts === corrected)!.price).toBe(2_700);
    expect((await health()).feed('XAU').corrections_pending).toBe(0);
  });

  it('serves an outlier: held, then rejected when the next point goes back; a real move is kept', async () => {
    const spike = NOW - 120;
    const ada = script('ADA', { price: wave(1), override: new Map([[spike, 10]]) });
    await sync(['ADA'], at(-2));
    const held = await sync(['ADA'], at(-1));
    expect(held.held.ADA).toBe(1);
    expect((await stored('ADA')).map((row) => row.ts)).not.toContain(spike);
    expect((await health()).feed('ADA').points_held).toBe(1);
    expect(await metric('coordinator_price_points_held', 'ADA')).toBe(1);

    await sync(['ADA'], at(0));
    const rows = await expectFinalCloses('ADA', ada.price, at(0));
    expect(rows.map((row) => row.ts)).not.toContain(spike);
    expect(rows.at(-1)!.ts).toBe(NOW - 60);
    expect((await health()).feed('ADA').points_held).toBe(0);
    const holds = await db.pool.any(sql.unsafe`SELECT state, price FROM price_holds WHERE asset = 'ADA'`);
    expect(holds).toEqual([{ state: 'rejected', price: 10 }]);

    // A real move: the minutes after it agree, so it is stored one run later.
    const jump = NOW - 120;
    const dot = script('DOT', { price: (ts) => (ts >= jump ? 13 : 10) });
    await sync(['DOT'], at(-1));
    expect((await stored('DOT')).map((row) => row.ts)).not.toContain(jump);
    await sync(['DOT'], at(0));
    await expectFinalCloses('DOT', dot.price, at(0));
    expect((await stored('DOT')).map((row) => row.ts)).toContain(jump);
  });

  it('with two sources: a jump the second confirms is stored at once; a divergence shows in /healthz', async () => {
    const jump = NOW - 120;
    const moving = (ts: number) => (ts >= jump ? 26 : 20);
    script('LINK', { price: moving });
    script('LINK', { price: moving }, second);
    const result = await sync(['LINK'], at(-1), crossChecked);
    expect(result.held.LINK).toBe(0);
    expect((await stored('LINK')).map((row) => row.ts)).toContain(jump);

    script('AVAX', { price: wave(30) });
    script('AVAX', { price: (ts) => wave(30)(ts) * 1.02 }, second);
    await sync(['AVAX'], at(0), crossChecked);
    const avax = (await health()).feed('AVAX');
    expect(avax.diverging).toBe(true);
    expect(avax.divergence).toBeCloseTo(Math.log(1.02), 6);
    expect(await metric('coordinator_price_source_divergence', 'AVAX')).toBeCloseTo(Math.log(1.02), 6);
    // The prices stored are the primary's.
    await expectFinalCloses('AVAX', wave(30), at(0));
  });

  it('freezes (200 with no new minutes): /healthz says frozen and degraded', async () => {
    script('FRZ', { price: wave(7), frozenAfter: NOW - 600 });
    await sync(['FRZ'], at(-9));
    const result = await sync(['FRZ'], at(0));
    expect(result.stored.FRZ).toBe(0);
    const now = await health();
    expect(now.status).toBe('degraded');
    expect(now.feed('FRZ').status).toBe('frozen');
    expect(await metric('coordinator_price_feed_ok', 'FRZ')).toBe(0);
    expect(await metric('coordinator_price_newest_age_seconds', 'FRZ')).toBeGreaterThan(500);
  });

  it('answers 50 MB: refused at the cap after one request, nothing stored, the feed failing', async () => {
    script('BIG', { price: wave(1), hugeBytes: 50 * 1024 * 1024 });
    await expect(sync(['BIG'], at(0))).rejects.toThrow(/answered more than the 4194304-byte cap/);
    expect(server.requests.get('BIG')).toBe(1);
    expect(await stored('BIG')).toEqual([]);
    expect((await health()).feed('BIG').status).toBe('failing');
  });

  it('scores on what was stored: the outage repaired, the outlier left out', async () => {
    // ADA is no configured asset: an inactive config makes the score pass consider it.
    await db.pool.query(sql.unsafe`
      INSERT INTO prediction_configs (asset, horizon, step, interval_seconds, active) VALUES ('ADA', 240, 60, 60, false)
    `);
    await insertModels(db.pool, ['steady']);
    const forecast = (asset: string, performedAt: number, horizon: number) =>
      insertPlannedPredictions(
        db.pool,
        [
          {
            modelId: 'steady',
            asset,
            performedAt,
            status: 'SUCCESS',
            distributions: Array(horizon / 60).fill(norm(0.01)),
          },
        ],
        { horizon, step: 60 },
      );
    // Across BTC's outage, and across ADA's rejected 10x tick at NOW - 120.
    await forecast('BTC', NOW - 600 + 0.5, 300);
    await forecast('ADA', NOW - 360 + 0.5, 240);
    const listing = createScoreListingActivities({ db: db.pool, game: condor });
    const scoring = createScoringActivities({ db: db.pool, game: condor });
    const page = await listing.nextScoringPage({ limit: 10, game: 'condor', asOf: at(0) });
    expect(page.ids).toHaveLength(2);
    const result = await new MockActivityEnvironment().run(scoring.scorePredictions, {
      predictionIds: page.ids,
      game: 'condor',
      asOf: at(0),
    });
    expect(result).toMatchObject({ scored: 2, failed: 0 });
    for (const row of await predictionsWithScores(db.pool, sql.fragment`p.model_id = 'steady'`)) {
      const points = (await stored(row.asset)).map((point) => [point.ts, point.price] as const);
      expect(points.some(([, price]) => price === 10)).toBe(false);
      expect({ value: row.value, success: row.success, reason: row.reason }).toEqual(
        referenceScore(row, PriceSeries.fromPoints(points, row.asset)),
      );
    }
  });

  it('stored nothing synthetic, and every point says where it came from', async () => {
    const sources = await db.pool.anyFirst(sql.unsafe`SELECT DISTINCT source FROM prices`);
    expect(sources).toEqual(['pricedb']);
  });

  it('reports the feeds and their tail as the node report contract names them', async () => {
    const feeds = (await gateway.inject('/reports/feeds')).json() as Array<Record<string, unknown>>;
    const btc = feeds.find((feed) => feed.subject === 'BTC')!;
    expect(btc).toMatchObject({ source: 'pricedb', kind: 'candle', granularity: '1m' });
    expect(btc.record_count).toBe((await stored('BTC')).length);
    expect(btc.newest_ts).toBe(new Date((NOW - 60) * 1000).toISOString().replace('.000Z', '.000000+00:00'));
    expect(btc.watermark_ts).toBe(btc.newest_ts);

    const tail = (await gateway.inject('/reports/feeds/tail?subject=BTC&limit=3')).json() as Array<
      Record<string, unknown>
    >;
    expect(tail.map((point) => point.ts_event)).toEqual(
      [60, 120, 180].map((ago) => new Date((NOW - ago) * 1000).toISOString().replace('.000Z', '.000000+00:00')),
    );
    expect(tail[0]).toMatchObject({ source: 'pricedb', subject: 'BTC', kind: 'candle', granularity: '1m', meta: {} });
    expect((tail[0]!.values as { close: number }).close).toBe(wave(50_000)(NOW - 60));
    expect((await gateway.inject('/reports/feeds/tail')).json()).toHaveLength(20);
    expect((await gateway.inject('/reports/feeds/tail?kind=tick')).json()).toEqual([]);
    const bad = await gateway.inject('/reports/feeds/tail?limit=500');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/limit/);
    // NUL, which PostgreSQL text cannot hold, is a 400 too (found by test/gateway-property.test.ts).
    const nul = await gateway.inject('/reports/feeds/tail?source=%00');
    expect(nul.statusCode).toBe(400);
    expect(nul.json().message).toMatch(/source/);
  });
});
