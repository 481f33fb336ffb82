import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReadOnlyDatabase } from '../database.js';
import { leaderboardAgeSeconds, predictCycleLagSeconds } from '../queries/status.js';

/**
 * Prometheus metrics on a registry of this gateway's own (several gateways in one process, as in the
 * tests, do not collide): request counts and latency per route, and two freshness gauges read from the
 * database at scrape time. Hooks go on the root instance so every route, 404s included, is counted.
 */
export function installMetrics(app: FastifyInstance, database: ReadOnlyDatabase): Registry {
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
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    },
  );
  return registry;
}
