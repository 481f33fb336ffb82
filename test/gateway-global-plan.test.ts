// How PostgreSQL runs the global report's query on data shaped like production's (a snapshot per model
// every 5 minutes for 7 days, each pass's rows written together): an index-only scan of the primary key,
// whose index carries the scores (sql/006), instead of a heap page per snapshot. The contract tests in
// gateway-reports check what the report says; this one keeps it cheap to read.
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeRangeOf } from '../gateway/params.js';
import { globalReport, globalReportQuery } from '../gateway/queries/reports.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReports } from './support/seed-reports.js';

const NOW = 1_749_999_600;
const PASSES_IN_7_DAYS = (7 * 86_400) / 300 + 1;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Actual Rows': number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedReports(db.pool, {
    now: NOW,
    models: 8,
    snapshotModels: 6,
    snapshotDays: 7,
    passEverySeconds: 300,
    predictionModels: 0,
    leaderboards: 1,
  });
  // What autovacuum does after the inserts (the test server may run without it): marks the pages
  // all-visible, which an index-only scan needs to skip the heap.
  await db.pool.query(sql.unsafe`VACUUM ANALYZE model_score_snapshots`);
});
afterAll(async () => {
  await db?.drop();
});

async function scanOf(modelIds: string[]): Promise<PlanNode> {
  const range = timeRangeOf({ start: String(NOW - 7 * 86_400), end: String(NOW) });
  const row = await db.pool.one(
    sql.unsafe`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${globalReportQuery(modelIds, range)}`,
  );
  const [{ Plan }] = (row as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'];
  const scans = nodesOf(Plan).filter((node) => node['Relation Name'] === 'model_score_snapshots');
  expect(scans).toHaveLength(1);
  return scans[0]!;
}

describe('the global report query', () => {
  it('reads one model over 7 days from the primary key index alone', async () => {
    const scan = await scanOf(['model-0003']);
    expect(scan['Node Type']).toBe('Index Only Scan');
    expect(scan['Index Name']).toBe('model_score_snapshots_pkey');
    expect(scan['Heap Fetches']).toBe(0);
    expect(scan['Actual Rows']).toBe(PASSES_IN_7_DAYS);
    // A heap read would touch a page per snapshot; the index holds hundreds of entries per page.
    expect(scan['Shared Hit Blocks'] + scan['Shared Read Blocks']).toBeLessThan(PASSES_IN_7_DAYS / 20);
  });

  it('reads several models the same way', async () => {
    const scan = await scanOf(['model-0001', 'model-0004', 'model-0006', 'model-0008']);
    expect(scan['Node Type']).toBe('Index Only Scan');
    expect(scan['Heap Fetches']).toBe(0);
    // model-0008 has no snapshots.
    expect(scan['Actual Rows']).toBe(3 * PASSES_IN_7_DAYS);
  });

  it('reports scores rewritten in place by a re-run pass', async () => {
    // A re-run pass updates the scores of an existing snapshot: the index's copy must follow.
    await db.pool.query(sql.unsafe`
      UPDATE model_score_snapshots SET score_recent = 12.5, score_anchor = NULL
      WHERE model_id = 'model-0002' AND as_of = to_timestamp(${NOW})
    `);
    await db.pool.query(sql.unsafe`VACUUM model_score_snapshots`);
    const range = timeRangeOf({ start: String(NOW), end: String(NOW) });
    const body = JSON.parse((await globalReport(db.pool, ['model-0002'], range)).body) as Array<
      Record<string, unknown>
    >;
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ model_id: 'model-0002', score_recent: 12.5, score_anchor: null });
    expect((await scanOf(['model-0002']))['Heap Fetches']).toBe(0);
  });
});
