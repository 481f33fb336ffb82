// The report gateway under load, against the limit for the same payload: a route in the same process
// that sends the same bytes from memory. `npm run bench -- gateway [--rounds 7] [--duration 3]
// [--connections N] [--models N]`. A fresh database (dropped afterwards) is seeded with N ranked models
// (default 1,000) and 7 days of snapshots every 5 minutes; the gateway serves it as in production (its
// own read-only pool, rate limiting on with a limit the load cannot reach). autocannon runs in a child
// process so the load generator does not share the server's event loop. The machine is shared, so each
// comparison alternates short runs of the two routes (ABBA) and reports medians of the rounds.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { type CommonQueryMethods, type QuerySqlToken, sql } from 'slonik';
import type { ZodTypeAny } from 'zod';
import { buildGateway } from '../gateway/app.js';
import { timeRangeOf } from '../gateway/params.js';
import { globalReportQuery, latestLeaderboardKey, leaderboardReport } from '../gateway/queries/reports.js';
import { withClient, withDatabase } from '../lib/db/database.js';
import { createDatabasePool, migrate } from '../lib/db/index.js';
import { createLogger } from '../lib/log/index.js';
import { seedReports } from '../test/support/seed-reports.js';
import { median } from './support/figures.js';

const run = promisify(execFile);
const autocannonCli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive whole number`);
  return value;
}

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
}

async function load(url: string, connections: number, duration: number): Promise<Load> {
  const { stdout } = await run(
    process.execPath,
    [autocannonCli, '-j', '-c', String(connections), '-d', String(duration), url],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  const figures = {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
  console.error(`  ${url}: ${figures.requestsPerSecond} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms`);
  return figures;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface Comparison {
  baseline: { requestsPerSecond: number; p99: number };
  route: { requestsPerSecond: number; p50: number; p99: number; worstP99: number };
  /** Median over rounds of route req/s / baseline req/s, each pair measured back to back. */
  ratio: number;
  roundRatios: number[];
}

/** Both warmed up, then `rounds` pairs of runs in alternating order, so drift in the load hits both alike. */
async function compare(
  baselineUrl: string,
  routeUrl: string,
  options: { rounds: number; connections: number; duration: number },
): Promise<Comparison> {
  await load(baselineUrl, options.connections, 2);
  await load(routeUrl, options.connections, 2);
  const baseline: Load[] = [];
  const route: Load[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? [baselineUrl, routeUrl] : [routeUrl, baselineUrl];
    for (const url of order) {
      (url === baselineUrl ? baseline : route).push(await load(url, options.connections, options.duration));
    }
  }
  return {
    baseline: {
      requestsPerSecond: median(baseline.map((b) => b.requestsPerSecond)),
      p99: median(baseline.map((b) => b.p99)),
    },
    route: {
      requestsPerSecond: median(route.map((r) => r.requestsPerSecond)),
      p50: median(route.map((r) => r.p50)),
      p99: median(route.map((r) => r.p99)),
      worstP99: Math.max(...route.map((r) => r.p99)),
    },
    ratio: round3(median(route.map((r, i) => r.requestsPerSecond / baseline[i]!.requestsPerSecond))),
    roundRatios: route.map((r, i) => round3(r.requestsPerSecond / baseline[i]!.requestsPerSecond)),
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** The snapshot scan of a query's plan, its buffers, and the server's execution time (median of 15 runs). */
async function planOf(db: CommonQueryMethods, query: QuerySqlToken<ZodTypeAny>) {
  type Explained = { 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] };
  const explain = async (options: ReturnType<typeof sql.fragment>) =>
    ((await db.one(sql.unsafe`EXPLAIN (${options}, FORMAT JSON) ${query}`)) as Explained)['QUERY PLAN'][0];
  const { Plan } = await explain(sql.fragment`ANALYZE, BUFFERS`);
  const scan = nodesOf(Plan).find((node) => node['Relation Name'] === 'model_score_snapshots');
  const times: number[] = [];
  for (let i = 0; i < 15; i++) times.push((await explain(sql.fragment`ANALYZE, TIMING OFF`))['Execution Time']);
  return {
    scan: scan ? `${scan['Node Type']}${scan['Index Name'] ? ` on ${scan['Index Name']}` : ''}` : 'none',
    heapFetches: scan?.['Heap Fetches'] ?? null,
    buffers: Plan['Shared Hit Blocks'] + Plan['Shared Read Blocks'],
    executionMs: round3(median(times)),
  };
}

export default async function gatewayBench(args: string[]): Promise<Record<string, unknown>> {
  const duration = flag(args, '--duration', 3);
  const rounds = flag(args, '--rounds', 7);
  const connections = flag(args, '--connections', 10);
  const models = flag(args, '--models', 1_000);
  const server = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const name = `bench_gateway_${randomBytes(4).toString('hex')}`;
  await withClient(server, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = withDatabase(server, name);
  const quiet = createLogger('bench').child({}, { level: 'warn' });
  let app: Awaited<ReturnType<typeof buildGateway>> | undefined;
  try {
    await migrate({ connectionString: url, logger: quiet });
    console.error(`gateway: seeding ${models} models and 7 days of 5-minute snapshots into ${name}`);
    const pool = await createDatabasePool({ connectionString: url });
    const seeded = await seedReports(pool, {
      models,
      leaderboards: 3,
      snapshotModels: 10,
      snapshotDays: 7,
      passEverySeconds: 300,
      predictionModels: 0,
    });
    // Autovacuum would have marked the snapshots' pages all-visible (sql/006 has it vacuum the table every
    // 10,000 inserts); this server may run without it, and an index-only scan needs it to skip the heap.
    await pool.query(sql.unsafe`VACUUM ANALYZE`);
    const model = seeded.snapshots[0]!.modelId;
    const nowSeconds = seeded.nowUs / 1e6;
    const start = String(nowSeconds - 7 * 86_400);
    const end = String(nowSeconds);
    const globalPlan = await planOf(pool, globalReportQuery([model], timeRangeOf({ start, end })));
    await pool.end();

    app = await buildGateway({
      db: url,
      rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 },
      logger: quiet,
    });
    // The same bytes the database-backed routes send, from memory: the ceiling for that payload. Routes
    // must exist before the first inject, so the bodies are filled in right after.
    const json = 'application/json; charset=utf-8';
    let leaderboardBody = Buffer.alloc(0);
    let globalBody = Buffer.alloc(0);
    app.get('/bench/static-leaderboard', (_request, reply) => reply.type(json).send(leaderboardBody));
    app.get('/bench/static-global', (_request, reply) => reply.type(json).send(globalBody));
    // The leaderboard as a query per request would serve it, without the cache: what the cache saves.
    const uncachedPool = await createDatabasePool({ connectionString: url, maximumPoolSize: 10 });
    app.addHook('onClose', () => uncachedPool.end());
    app.get('/bench/uncached-leaderboard', async (_request, reply) => {
      const key = await latestLeaderboardKey(uncachedPool);
      const report = key ? await leaderboardReport(uncachedPool, key) : null;
      return reply.type(json).send(report?.body ?? '[]');
    });
    leaderboardBody = Buffer.from((await app.inject('/reports/leaderboard')).rawPayload);
    const globalPath = `/reports/models/global?projectIds=${model}&start=${start}&end=${end}`;
    globalBody = Buffer.from((await app.inject(globalPath)).rawPayload);
    const rows = (JSON.parse(globalBody.toString()) as unknown[]).length;
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    console.error(
      `gateway: ${leaderboardBody.length} byte leaderboard, ${globalBody.length} byte global report (${rows} snapshots); ` +
        `${connections} connections, ${rounds} rounds of ${duration} s per route`,
    );

    const options = { rounds, connections, duration };
    const before = { ...app.leaderboardCache.stats };
    const leaderboard = await compare(`${address}/bench/static-leaderboard`, `${address}/reports/leaderboard`, options);
    const served = app.leaderboardCache.stats.requests - before.requests;
    const probes = app.leaderboardCache.stats.probes - before.probes;
    const uncached = await compare(`${address}/bench/static-leaderboard`, `${address}/bench/uncached-leaderboard`, {
      ...options,
      rounds: Math.min(rounds, 2),
    });
    const global = await compare(`${address}/bench/static-global`, `${address}${globalPath}`, options);

    const figures = {
      models,
      connections,
      rounds,
      durationSeconds: duration,
      leaderboard_bytes: leaderboardBody.length,
      static_leaderboard_req_s: leaderboard.baseline.requestsPerSecond,
      leaderboard_req_s: leaderboard.route.requestsPerSecond,
      ratio_vs_static: leaderboard.ratio,
      round_ratios: leaderboard.roundRatios,
      p99_ms: leaderboard.route.p99,
      p99_worst_round_ms: leaderboard.route.worstP99,
      p50_ms: leaderboard.route.p50,
      static_p99_ms: leaderboard.baseline.p99,
      // Requests per "which leaderboard is newest" query during the leaderboard runs.
      leaderboard_requests_per_probe: Math.round((served / Math.max(probes, 1)) * 10) / 10,
      uncached_leaderboard_req_s: uncached.route.requestsPerSecond,
      uncached_ratio_vs_static: uncached.ratio,
      uncached_p99_ms: uncached.route.p99,
      global_snapshots: rows,
      global_bytes: globalBody.length,
      static_global_req_s: global.baseline.requestsPerSecond,
      global_req_s: global.route.requestsPerSecond,
      global_ratio_vs_static: global.ratio,
      global_round_ratios: global.roundRatios,
      global_p99_ms: global.route.p99,
      // How PostgreSQL reads the snapshots, and its execution time of the query (median, timing off).
      global_scan: globalPlan.scan,
      global_heap_fetches: globalPlan.heapFetches,
      global_buffers: globalPlan.buffers,
      global_query_ms: globalPlan.executionMs,
      goals: { ratio_vs_static: '>= 0.8', p99_ms: '<= 20' },
    };
    const met = figures.ratio_vs_static >= 0.8 && figures.p99_ms <= 20;
    console.error(
      `gateway: goals ${met ? 'met' : 'NOT met'} (ratio ${figures.ratio_vs_static}, p99 ${figures.p99_ms} ms)`,
    );
    return { ...figures, goals_met: met };
  } finally {
    await app?.close();
    await withClient(server, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
    );
  }
}
