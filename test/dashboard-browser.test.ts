// The dashboard in a real browser against a seeded database: what it shows is what the API says.
// Screenshots of each view go to test/artifacts/ (git-ignored) for a reviewer to look at.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { collectPageErrors, launchChromium } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { type SeededReports, seedReports } from './support/seed-reports.js';
import { repoRoot } from './support/tools.js';

const artifacts = resolve(repoRoot, 'test', 'artifacts');

let database: TestDatabase;
let seeded: SeededReports;
let gateway: Gateway;
let baseUrl: string;
let browser: Browser;

interface LeaderboardRow {
  model_id: string;
  rank: number;
  score_recent: number | null;
  score_steady: number | null;
  score_anchor: number | null;
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  database = await createTestDatabase();
  seeded = await seedReports(database.pool, { models: 12, predictionModels: 4, snapshotDays: 7 });
  const nowSeconds = seeded.nowUs / 1e6;
  // Two hours of one-minute prices per asset, and one cycle whose first answer came 40 s late.
  await database.pool.query(sql.unsafe`
    INSERT INTO prices (asset, ts, price)
    SELECT asset, to_timestamp(${nowSeconds} - 60 * m), base * (1 + 0.01 * sin(m / 9.0))
    FROM (VALUES ('BTC', 97000.0), ('ETH', 3400.0), ('SOL', 180.0), ('XAU', 2650.0)) AS a (asset, base),
         generate_series(0, 119) AS m
  `);
  await database.pool.query(sql.unsafe`
    INSERT INTO predictions (model_id, asset, horizon, step, status, reason, performed_at, resolvable_at, scheduled_at)
    SELECT model_id, 'BTC', 3600, 60, 'TIMEOUT', 'no answer within 60000 ms',
           to_timestamp(${nowSeconds + 30 + 40}), to_timestamp(${nowSeconds + 30 + 40 + 3600}), to_timestamp(${nowSeconds + 30})
    FROM models ORDER BY model_id LIMIT 3
  `);
  gateway = await buildGateway({
    db: database.url,
    dashboard: { temporalUiUrl: 'http://127.0.0.1:8233', temporalNamespace: 'default' },
  });
  baseUrl = await gateway.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await database?.drop();
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = collectPageErrors(page);
  await page.goto(`${baseUrl}${path}`);
  await page.waitForSelector('#view[aria-busy="false"][data-view]', { timeout: 30_000 });
  return { page, errors };
}

/** Coloured pixels on a chart's canvases: the series' lines and points, not the grey grid and axes. */
async function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (container) => {
    let painted = 0;
    for (const canvas of container.querySelectorAll('canvas')) {
      const context = canvas.getContext('2d');
      if (!context || canvas.width === 0 || canvas.height === 0) continue;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
        if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) painted++;
      }
    }
    return painted;
  });
}

describe('the dashboard in Chromium', () => {
  it('lists the leaderboard as the API serves it, sorts it, and draws the scores chart', async () => {
    const { page, errors } = await open('/');
    const api = (await (await fetch(`${baseUrl}/reports/leaderboard`)).json()) as LeaderboardRow[];
    expect(api.length).toBe(12);
    const shown = await page.$$eval('#leaderboard tbody tr', (rows) =>
      rows.map((row) => ({
        modelId: row.getAttribute('data-model-id'),
        rank: Number(row.querySelector('td')?.textContent),
        anchor: row.querySelector('[data-window="score_anchor"]')?.textContent,
      })),
    );
    expect(shown.map((r) => r.modelId)).toEqual(api.map((r) => r.model_id));
    expect(shown.map((r) => r.rank)).toEqual(api.map((r) => r.rank));
    expect(shown.map((r) => r.anchor)).toEqual(
      api.map((r) => (r.score_anchor === null ? '–' : r.score_anchor.toPrecision(5))),
    );

    // The chart: the top 10 models' anchor scores over 7 days, as many points as the API has.
    const top = api.slice(0, 10).map((r) => r.model_id);
    const global = (await (
      await fetch(
        `${baseUrl}/reports/models/global?projectIds=${top.join(',')}&start=${seeded.nowUs / 1e6 - 7 * 86_400}`,
      )
    ).json()) as Array<{ score_anchor: number | null }>;
    const chart = page.locator('#scores-chart');
    expect(await chart.getAttribute('data-series')).toBe('10');
    const expectedPoints = global.filter((s) => s.score_anchor !== null).length;
    expect(expectedPoints).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-points'))).toBe(expectedPoints);
    expect(await paintedPixels(page, '#scores-chart')).toBeGreaterThan(300);
    await page.screenshot({ path: resolve(artifacts, 'dashboard-leaderboard.png'), fullPage: true });

    // Sorting by the recent window, highest first, then lowest first.
    await page.click('#leaderboard th[data-key="score_recent"] button');
    const recentOrder = async () =>
      page.$$eval('#leaderboard tbody tr', (rows) => rows.map((row) => row.getAttribute('data-model-id')));
    const byRecent = [...api].sort(
      (a, b) => (b.score_recent ?? -Infinity) - (a.score_recent ?? -Infinity) || a.rank - b.rank,
    );
    expect(await recentOrder()).toEqual(byRecent.map((r) => r.model_id));
    await page.click('#leaderboard th[data-key="score_recent"] button');
    expect(await page.getAttribute('#leaderboard th[data-key="score_recent"]', 'aria-sort')).toBe('ascending');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a model's chart, status counts and why its predictions failed", async () => {
    // The fourth model has four days of history (the seed's models start a day apart): a chart with lines.
    const failing = seeded.predictions.find((p) => p.status === 'FAILED' && p.modelId === 'model-0004')!;
    const { page, errors } = await open(`/#/model/${failing.modelId}`);
    expect(await page.textContent('#model-name')).toContain(failing.modelId);
    expect(Number(await page.getAttribute('#model-chart', 'data-points'))).toBeGreaterThan(0);
    expect(await paintedPixels(page, '#model-chart')).toBeGreaterThan(300);
    const detail = (await (await fetch(`${baseUrl}/reports/models/${failing.modelId}`)).json()) as {
      prediction_counts: Record<string, number>;
    };
    for (const key of ['total', 'success', 'failed', 'timeout', 'absent']) {
      expect(await page.textContent(`[data-count="${key}"] .value`)).toBe(String(detail.prediction_counts[key]));
    }
    expect(detail.prediction_counts.failed).toBeGreaterThan(0);
    expect(await page.textContent('#failure-reasons')).toContain(`FAILED: ${failing.reason}`);
    await page.screenshot({ path: resolve(artifacts, 'dashboard-model.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the last cycles, late ones marked, with links to their runs', async () => {
    const { page, errors } = await open('/#/cycles');
    const first = page.locator('#cycles tbody tr').first();
    expect(await first.getAttribute('class')).toBe('late');
    expect(await first.textContent()).toContain('no answer within 60000 ms');
    const link = await first.locator('a').getAttribute('href');
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\?query=/);
    expect(decodeURIComponent(link!.split('query=')[1]!)).toContain('WorkflowType="predictCycle"');
    expect(await page.locator('#cycles tbody tr.on-time').count()).toBeGreaterThan(0);
    await page.screenshot({ path: resolve(artifacts, 'dashboard-cycles.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the newest price of each asset with its chart', async () => {
    const { page, errors } = await open('/#/feed');
    expect(await page.locator('.card[data-asset]').count()).toBe(4);
    expect(await page.textContent('.card[data-asset="BTC"] .price')).toBe('97,000');
    expect(await page.getAttribute('.card[data-asset="BTC"] .chart', 'data-points')).toBe('120');
    expect(await paintedPixels(page, '.card[data-asset="ETH"] .chart')).toBeGreaterThan(100);
    await page.screenshot({ path: resolve(artifacts, 'dashboard-feed.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
