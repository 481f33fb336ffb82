import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReadOnlyDatabase } from '../database.js';
import { type FeedBounds, type FeedRow, feedHealth, feedRows } from '../queries/feeds.js';
import { leaderboardAgeSeconds, predictCycleLagSeconds } from '../queries/status.js';

/**
 * Prometheus metrics on a registry of this gateway's own (several gateways in one process, as in the
 * tests, do not collide): request counts and latency per route, and two freshness gauges read from the
 * database at scrape time. Hooks go on the root instance so every route, 404s included, is counted.
 */
export function installMetrics(app: FastifyInstance, database: ReadOnlyDatabase, feedBounds: FeedBounds): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });

  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from request to response, by route pattern and status code',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const freshness = (name: string, help: string, read: typeof leaderboardAgeSeconds) =>
    new Gauge({
      name,
      help: `${help} (NaN when unknown or the database does not answer)`,
      registers: [registry],
      async collect() {
        try {
          this.set((await database.read(read)) ?? Number.NaN);
        } catch (error) {
          app.log.warn({ err: error, metric: name }, 'could not read a freshness metric from the database');
          this.set(Number.NaN);
        }
      },
    });
  freshness(
    'coordinator_leaderboard_age_seconds',
    'Seconds since the newest leaderboard was published',
    leaderboardAgeSeconds,
  );
  freshness(
    'coordinator_predict_cycle_lag_seconds',
    'Seconds since the newest stored prediction (any status); a predict cycle that stops makes it grow',
    predictCycleLagSeconds,
  );

  const feedGauges = installFeedGauges(app, database, feedBounds, registry);

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: ids and query strings would make a label per request.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text exposition format, version 0.0.4' } },
      },
    },
    async (_request, reply) => {
      feedGauges.newScrape();
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    },
  );
  return registry;
}

/**
 * Per-asset price feed gauges, the numbers /healthz shows. One database read per scrape serves them
 * all: each gauge's collect awaits the same read, which the route forgets before each scrape.
 */
function installFeedGauges(
  app: FastifyInstance,
  database: ReadOnlyDatabase,
  bounds: FeedBounds,
  registry: Registry,
): { newScrape(): void } {
  let scrape: Promise<FeedRow[]> | undefined;
  const rows = () => {
    scrape ??= database.read(feedRows).catch((error: unknown) => {
      app.log.warn({ err: error }, 'could not read the price feeds from the database');
      return [] as FeedRow[];
    });
    return scrape;
  };
  const gauge = (name: string, help: string, value: (row: FeedRow) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['asset'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await rows()) this.set({ asset: row.asset }, value(row) ?? Number.NaN);
      },
    });
  gauge(
    'coordinator_price_newest_age_seconds',
    "Seconds since the newest stored price's minute closed, per asset (NaN: none stored)",
    (row) => row.age_seconds,
  );
  gauge(
    'coordinator_price_feed_ok',
    '1 while the asset feed is ok, 0 when frozen, failing, lagging, empty or its sources diverge',
    (row) => {
      const health = feedHealth(row, bounds);
      return health.status === 'ok' && !health.diverging ? 1 : 0;
    },
  );
  gauge(
    'coordinator_price_source_divergence',
    'Largest |ln(a/b)| between the two configured sources in the last ingestion run (NaN: one source)',
    (row) => row.divergence,
  );
  gauge(
    'coordinator_price_points_held',
    'Implausible price points held back until a second source or the next point confirms them',
    (row) => row.points_held,
  );
  gauge(
    'coordinator_price_corrections_pending',
    'Later values of already stored minutes, logged and not applied (a backfill with applyPriceCorrections does)',
    (row) => row.corrections_pending,
  );
  return {
    /** Forget the last read: the next collect reads the database again. */
    newScrape() {
      scrape = undefined;
    },
  };
}
