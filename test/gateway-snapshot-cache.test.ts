// The snapshot report cache: bodies are reused until any statement writes model_score_snapshots, and a
// new pass, a rewritten old snapshot or a retention delete is served by the next request.
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
  seeded = await seedReports(database.pool, { models: 3, predictionModels: 0, snapshotDays: 1 });
  gateway = await buildGateway({ db: database.url, leaderboardMaxAgeMs: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

const nowSeconds = () => seeded.nowUs / 1e6;
type Row = { model_id: string; score_recent: number | null; performed_at: string };

async function global(query: string): Promise<Row[]> {
  const response = await gateway.inject(`/reports/models/global?${query}`);
  expect(response.statusCode).toBe(200);
  return response.json() as Row[];
}

describe('the snapshot report cache', () => {
  it('serves a repeated request from memory, whatever order the ids are named in', async () => {
    const stats = gateway.snapshotCache.stats;
    const range = `start=${nowSeconds() - 86_400}&end=${nowSeconds() - 3600}`;
    const first = await global(`projectIds=model-0001,model-0002&${range}`);
    const builds = stats.builds;
    const hits = stats.hits;
    expect(await global(`projectIds=model-0002,model-0001&${range}`)).toEqual(first);
    expect(stats.builds).toBe(builds);
    expect(stats.hits).toBe(hits + 1);
  });

  it('shares one body among requests "until now" while no pass writes, and serves a new pass at once', async () => {
    const stats = gateway.snapshotCache.stats;
    const before = await global(`projectIds=model-0001&start=${nowSeconds() - 7200}&end=${nowSeconds() + 10}`);
    const builds = stats.builds;
    expect(await global(`projectIds=model-0001&start=${nowSeconds() - 7200}&end=${nowSeconds() + 20}`)).toEqual(before);
    expect(stats.builds).toBe(builds);

    await database.pool.query(sql.unsafe`
      INSERT INTO model_score_snapshots (model_id, as_of, score_recent, score_steady, score_anchor, groups)
      VALUES ('model-0001', to_timestamp(${nowSeconds() + 5}), 1.5, NULL, NULL, '[]')
    `);
    const after = await global(`projectIds=model-0001&start=${nowSeconds() - 7200}&end=${nowSeconds() + 20}`);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ score_recent: 1.5, performed_at: apiTime(seeded.nowUs + 5e6) });
  });

  it('serves a rewritten old snapshot and a deleted one by the next request', async () => {
    const query = `projectIds=model-0003&start=${nowSeconds() - 86_400}&end=${nowSeconds() - 7200}`;
    const before = await global(query);
    const oldest = before[0]!;
    await database.pool.query(sql.unsafe`
      UPDATE model_score_snapshots SET score_recent = 42 WHERE model_id = 'model-0003' AND as_of = ${oldest.performed_at}::timestamptz
    `);
    expect((await global(query))[0]).toMatchObject({ score_recent: 42, performed_at: oldest.performed_at });
    await database.pool.query(sql.unsafe`
      DELETE FROM model_score_snapshots WHERE model_id = 'model-0003' AND as_of = ${oldest.performed_at}::timestamptz
    `);
    expect(await global(query)).toEqual(before.slice(1));
    const params = await gateway.inject(`/reports/models/params?${query}`);
    expect(params.json()).not.toContainEqual(expect.objectContaining({ performed_at: oldest.performed_at }));
  });
});
