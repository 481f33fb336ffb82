import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { DatabasePool } from 'slonik';
import { createLogger, type Logger } from '../lib/log/index.js';
import { openReadOnlyDatabase } from './database.js';
import { installErrorHandlers } from './errors.js';
import { LeaderboardCache } from './leaderboard-cache.js';
import { answerUndeclaredMethods, documentCommonAnswers } from './openapi.js';
import { MAX_REQUEST_HEAD_BYTES } from './params.js';
import { type DashboardOptions, dashboardRoutes } from './routes/dashboard.js';
import { installDocs } from './routes/docs.js';
import { gameHealthRoutes } from './routes/game-health.js';
import { healthRoutes, type TemporalHealthCheck } from './routes/health.js';
import { installMetrics } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { reportRoutes } from './routes/reports.js';
import { SnapshotReportCache } from './snapshot-cache.js';
import { validationMessage } from './validation-messages.js';

export interface GatewayOptions {
  /**
   * A connection string (the gateway opens its own pool whose connections are read-only, and closes it
   * with the app) or a slonik pool owned by the caller (each request then runs in a read-only transaction).
   */
  db: DatabasePool | string;
  /** Checked by /healthz; left out, /healthz reports Temporal as "not configured". */
  temporal?: TemporalHealthCheck;
  /** Allowed browser origins: a list, or '*' for any (the default: the data is public and read-only). `false`: no CORS headers. */
  cors?: { origins: string[] | '*' } | false;
  /** Requests per client address and window (default 1,200 a minute); `false` disables it. /healthz and /metrics are exempt. */
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /** Use X-Forwarded-For for the client address (rate limiting) when behind a proxy such as the webapp's. */
  trustProxy?: boolean;
  /** PostgreSQL aborts a report query after this long (default 5,000 ms); the caller gets a 503. */
  statementTimeoutMs?: number;
  /** Connections of the gateway's own pool (default 10). */
  maximumPoolSize?: number;
  /**
   * How long the answer to "which leaderboard is newest" (and "which version are the snapshots at") may be
   * reused (default 250 ms); 0 asks the database on every request (concurrent requests still share one query).
   */
  leaderboardMaxAgeMs?: number;
  /** Deadline of each /healthz check (default 2,000 ms). */
  healthTimeoutMs?: number;
  /** The dashboard at `/` (on by default; give the Temporal Web UI's URL for links to runs); `false`: none. */
  dashboard?: DashboardOptions | false;
  logger?: Logger;
}

export interface Gateway extends FastifyInstance {
  /** The leaderboard body cache, whose counters tests and benchmarks read. */
  leaderboardCache: LeaderboardCache;
  /** The /reports/models/global and /params body cache. */
  snapshotCache: SnapshotReportCache;
}

/**
 * The read-only report HTTP service. Returns a Fastify instance that is not listening yet: call
 * `listen({port, host})`, or `inject()` in tests; `close()` also closes a pool the gateway opened.
 */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const database = await openReadOnlyDatabase(options.db, {
    statementTimeoutMs: options.statementTimeoutMs ?? 5_000,
    maximumPoolSize: options.maximumPoolSize ?? 10,
  });
  const logger: FastifyBaseLogger = options.logger ?? createLogger('gateway');
  const app = Fastify({
    loggerInstance: logger,
    // Metrics count every request; a log line per request would cost more than serving a cached body.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    http: { maxHeaderSize: MAX_REQUEST_HEAD_BYTES },
    // Errors carry the refused value, so the message can say what was wrong with it.
    ajv: { customOptions: { verbose: true } },
    schemaErrorFormatter: validationMessage,
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: true },
  });
  app.addHook('onClose', () => database.close());

  try {
    installErrorHandlers(app);
    // Docs first: @fastify/swagger only describes routes added after it.
    await installDocs(app);
    documentCommonAnswers(app, { rateLimited: options.rateLimit !== false });
    const finishMethods = answerUndeclaredMethods(app);
    installMetrics(app, database);
    if (options.cors !== false) {
      await app.register(cors, { origin: options.cors?.origins ?? '*', methods: ['GET', 'HEAD', 'OPTIONS'] });
    }
    if (options.rateLimit !== false) {
      const limit = options.rateLimit ?? { max: 1_200, timeWindowMs: 60_000 };
      await app.register(rateLimit, { global: true, max: limit.max, timeWindow: limit.timeWindowMs });
    }

    const maxAgeMs = options.leaderboardMaxAgeMs ?? 250;
    const leaderboardCache = new LeaderboardCache(database, { maxAgeMs });
    const snapshotCache = new SnapshotReportCache(database, { maxAgeMs });
    await app.register(reportRoutes, { database, leaderboard: leaderboardCache, snapshots: snapshotCache });
    await app.register(modelRoutes, { database });
    await app.register(gameHealthRoutes, { database });
    if (options.dashboard !== false) await app.register(dashboardRoutes, options.dashboard ?? {});
    await app.register(healthRoutes, {
      database,
      timeoutMs: options.healthTimeoutMs ?? 2_000,
      ...(options.temporal ? { temporal: options.temporal } : {}),
    });
    // After every route: the other methods of each path answer 405.
    finishMethods();
    app.decorate('leaderboardCache', leaderboardCache);
    app.decorate('snapshotCache', snapshotCache);
    return app as unknown as Gateway;
  } catch (error) {
    await app.close();
    throw error;
  }
}
