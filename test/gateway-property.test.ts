// Property: whatever the query string (and path id), the gateway answers with a status below 500 and a
// JSON body; errors carry a message. Runs against a real, seeded PostgreSQL, so every query that passes
// validation is executed for real.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReports } from './support/seed-reports.js';

let db: TestDatabase;
let app: Gateway;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedReports(db.pool, { models: 4, predictionModels: 2, predictionDays: 1, snapshotDays: 1 });
  app = await buildGateway({ db: db.url, rateLimit: false });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const routes = [
  '/reports/models',
  '/reports/leaderboard',
  '/reports/models/global',
  '/reports/models/params',
  '/reports/predictions',
  '/reports/models/model-0001',
  '/reports/feeds',
  '/reports/feeds/tail',
  '/healthz',
  '/reports/checkpoints',
  '/reports/checkpoints/latest',
  '/reports/checkpoints/rewards',
  '/reports/emissions/latest',
  '/reports/merkle/cycles',
  '/reports/merkle/proof',
  '/reports/snapshots',
  '/reports/schema',
  '/info',
];

const keys = fc.oneof(
  fc.constantFrom('projectIds', 'projectIds[]', 'start', 'end', 'limit', 'include_ensembles', 'source', 'subject'),
  fc.constantFrom('since', 'until', 'snapshot_id', 'model_id', 'status', 'total_prize'),
  fc.string({ maxLength: 12 }),
);

const times = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+05:30').replace('T', ' ')),
  fc.integer({ min: -1e13, max: 1e13 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom('2025-02-29', '2024-02-29T24:00:00Z', '1970-01-01', '9999-12-31T23:59:59.999999Z', 'now', ''),
);

const ids = fc.oneof(
  fc.constantFrom('model-0001', 'model-0002', 'model-0001,model-0002', ',', ''),
  fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 5 }).map((parts) => parts.join(',')),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
);

const values = fc.oneof(
  times,
  ids,
  fc.integer({ min: -1000, max: 100_000 }).map(String),
  fc.string({ unit: 'binary' }),
);

// Values as a client would encode them, or raw fragments with broken percent escapes and separators.
const rawFragment = fc
  .array(fc.constantFrom('%', 'E0', 'A4', '%FF', '%00', '%2C', ',', '=', '&', '+', '[', ']', '.', ':', '-', '9', 'x'), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));
const pair = fc.oneof(
  fc.tuple(keys, values).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
  fc.tuple(keys, rawFragment).map(([k, v]) => `${encodeURIComponent(k)}=${v}`),
  rawFragment,
);
const pathId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  rawFragment,
  fc.constantFrom('global', 'params', '%00', '..', 'model-0001'),
);
const paths = fc.oneof(
  fc.constantFrom(...routes),
  pathId.map((id) => `/reports/models/${id}`),
  pathId.map((id) => `/reports/checkpoints/${id}`),
  pathId.map((id) => `/reports/checkpoints/${id}/prizes`),
  pathId.map((id) => `/reports/merkle/cycles/${id}`),
);

it('never answers a query string with a 5xx, and always with JSON', async () => {
  await fc.assert(
    fc.asyncProperty(paths, fc.array(pair, { maxLength: 6 }), async (path, pairs) => {
      const url = pairs.length ? `${path}?${pairs.join('&')}` : path;
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBeLessThan(500);
      expect(response.headers['content-type'], url).toMatch(/^application\/json/);
      const body = response.json();
      if (response.statusCode >= 400) expect(typeof body.message, url).toBe('string');
      else if (response.statusCode !== 200) throw new Error(`unexpected status ${response.statusCode} for ${url}`);
    }),
    { numRuns: 400 },
  );
});
