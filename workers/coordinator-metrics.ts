// The coordinator's own metrics in a worker process, next to the Temporal SDK's: predict cycles on time or
// late, predictions by status, the price feed's age and the event loop's delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { sql } from 'slonik';
import type { DatabasePool } from '../lib/db/index.js';
import type { Logger } from '../lib/log/index.js';

/** A predict cycle whose fan-out starts more than this long after its instant counts as late. */
export const LATE_AFTER_SECONDS = 15;

export interface CoordinatorMetrics {
  registry: Registry;
  /** The predict fan-out of the cycle at `untilSec` started now (counted once per cycle, by shard 0). */
  cycleStarted(untilSec: number, shardIndex: number): void;
  /** Rows a predict shard stored, by status. */
  predictionsStored(byStatus: Record<string, number>): void;
  stop(): void;
}

export function createCoordinatorMetrics(options: { db?: DatabasePool; logger: Logger }): CoordinatorMetrics {
  const registry = new Registry();
  const cycles = new Counter({
    name: 'coordinator_predict_cycles_total',
    help: `Predict cycles whose model fan-out started, on time or late (more than ${LATE_AFTER_SECONDS} s after the cycle's instant)`,
    labelNames: ['timing'],
    registers: [registry],
  });
  const cycleDelay = new Gauge({
    name: 'coordinator_predict_cycle_start_delay_seconds',
    help: "Seconds between the last predict cycle's instant and the start of its model fan-out",
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'coordinator_predictions_total',
    help: 'Prediction rows stored by this worker, by status (SUCCESS, FAILED, TIMEOUT, ABSENT)',
    labelNames: ['status'],
    registers: [registry],
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  new Gauge({
    name: 'coordinator_event_loop_delay_seconds',
    help: "Delay of this process's event loop since the last scrape, by quantile",
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const quantile of [0.5, 0.99])
        this.set({ quantile: String(quantile) }, delay.percentile(quantile * 100) / 1e9);
      this.set({ quantile: '1' }, delay.max / 1e9);
      delay.reset();
    },
  });
  const { db, logger } = options;
  if (db) {
    new Gauge({
      name: 'coordinator_price_feed_age_seconds',
      help: "Seconds since the newest stored price of each predicted asset (how stale the models' feed is)",
      labelNames: ['asset'],
      registers: [registry],
      async collect() {
        try {
          const rows = (await db.any(sql.unsafe`
            SELECT a.asset, extract(epoch FROM now() - max(p.ts))::float8 AS age
            FROM (SELECT DISTINCT asset FROM prediction_configs WHERE active) a
            LEFT JOIN LATERAL (SELECT ts FROM prices WHERE prices.asset = a.asset ORDER BY ts DESC LIMIT 1) p ON true
            GROUP BY a.asset
          `)) as ReadonlyArray<{ asset: string; age: number | null }>;
          this.reset();
          for (const row of rows) this.set({ asset: row.asset }, row.age ?? Number.NaN);
        } catch (error) {
          logger.warn({ err: error }, 'could not read the price feed age for /metrics');
        }
      },
    });
  }
  return {
    registry,
    cycleStarted(untilSec, shardIndex) {
      if (shardIndex !== 0) return;
      const seconds = Date.now() / 1000 - untilSec;
      cycleDelay.set(seconds);
      cycles.inc({ timing: seconds > LATE_AFTER_SECONDS ? 'late' : 'on_time' });
    },
    predictionsStored(byStatus) {
      for (const [status, count] of Object.entries(byStatus)) if (count > 0) predictions.inc({ status }, count);
    },
    stop: () => delay.disable(),
  };
}
