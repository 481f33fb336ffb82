import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { ReadOnlyDatabase } from '../database.js';
import { type FeedBounds, type FeedHealth, feedHealth, feedRows } from '../queries/feeds.js';
import { databaseReadOnly } from '../queries/status.js';
import { healthResponse } from '../schemas.js';

/** Whatever tells whether Temporal answers; the CLI builds one on the Temporal gRPC health service. */
export interface TemporalHealthCheck {
  check(): Promise<void>;
}

export interface HealthRoutesOptions {
  database: ReadOnlyDatabase;
  temporal?: TemporalHealthCheck;
  /** Each check fails after this long (default 2 s), so a hung dependency never hangs the probe. */
  timeoutMs: number;
  /** When a price feed counts as sick. */
  feeds: FeedBounds;
}

interface CheckResult {
  status: 'up' | 'down' | 'not configured';
  latency_ms: number | null;
  error: string | null;
}

async function timed<T>(work: () => Promise<T>, timeoutMs: number): Promise<CheckResult & { value?: T }> {
  const began = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latency_ms: Math.round((performance.now() - began) * 10) / 10, error: null, value };
  } catch (error) {
    return { status: 'down', latency_ms: null, error: (error as Error).message || String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(
  app: FastifyInstance,
  { database, temporal, timeoutMs, feeds: bounds }: HealthRoutesOptions,
) {
  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['operations'],
        summary:
          'Whether the database and Temporal answer (503 when not), and each price feed: its newest settled ' +
          'point; "degraded" (200) when a feed is frozen, failing, lagging or its sources diverge',
        response: { 200: healthResponse, 503: healthResponse },
      },
    },
    async (_request, reply) => {
      const [db, workflows, feedCheck] = await Promise.all([
        timed(() => database.read(databaseReadOnly), timeoutMs),
        temporal
          ? timed(() => temporal.check(), timeoutMs)
          : Promise.resolve<CheckResult>({ status: 'not configured', latency_ms: null, error: null }),
        timed(() => database.read(feedRows), timeoutMs),
      ]);
      const feeds: FeedHealth[] = (feedCheck.value ?? []).map((row) => feedHealth(row, bounds));
      // An asset with no price yet (a new node, a new config) is shown, not counted as sick.
      const sick = feeds.some((feed) => (feed.status !== 'ok' && feed.status !== 'no data') || feed.diverging);
      const { value: readOnly, ...dbCheck } = db;
      const ok = db.status === 'up' && workflows.status !== 'down';
      const { value: _ignored, ...temporalCheck } = workflows as CheckResult & { value?: unknown };
      return reply.code(ok ? 200 : 503).send({
        status: ok ? (sick ? 'degraded' : 'ok') : 'unavailable',
        database: { ...dbCheck, read_only: readOnly ?? null },
        temporal: temporalCheck,
        feeds,
      });
    },
  );
}
