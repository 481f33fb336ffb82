import { type DatabasePool, insertPrices, latestPriceTs } from '../lib/db/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import type { PriceSource } from '../lib/market-data/index.js';
import { withHeartbeat } from './heartbeat.js';

export interface MarketDataDeps {
  db: DatabasePool;
  source: PriceSource;
  /** How far back an asset with no stored price starts (default 30 days: a new model's first tick). */
  historySeconds?: number;
  logger?: Logger;
}

export interface SyncPricesInput {
  assets: string[];
  /** Fetch up to this instant (unix seconds): the cycle's scheduled time. */
  untilSec: number;
}

export interface SyncPricesResult {
  /** New points stored per asset. */
  stored: Record<string, number>;
  /** Newest stored point per asset after the sync (unix seconds), null when the asset has none. */
  latest: Record<string, number | null>;
}

export function createMarketDataActivities(deps: MarketDataDeps) {
  const log = deps.logger ?? createLogger('market-data');
  const historySeconds = deps.historySeconds ?? 30 * 86_400;
  return {
    /** Fetches what is new since the newest stored price of each asset and stores it (idempotent). */
    async syncPrices(input: SyncPricesInput): Promise<SyncPricesResult> {
      return withHeartbeat(async () => {
        const result: SyncPricesResult = { stored: {}, latest: {} };
        for (const asset of input.assets) {
          const newest = await latestPriceTs(deps.db, asset);
          const from = newest === null ? input.untilSec - historySeconds : newest + 1;
          let stored = 0;
          if (from <= input.untilSec) {
            const points = await deps.source.fetch(asset, from, input.untilSec);
            stored = await insertPrices(
              deps.db,
              points.map((point) => ({ asset, ts: point.ts, price: point.price })),
            );
          }
          result.stored[asset] = stored;
          result.latest[asset] = stored > 0 ? await latestPriceTs(deps.db, asset) : newest;
        }
        log.info(
          { source: deps.source.name, ...result },
          `prices from ${deps.source.name} up to ${new Date(input.untilSec * 1000).toISOString()}: ` +
            Object.entries(result.stored)
              .map(([asset, count]) => `${asset} +${count}`)
              .join(', '),
        );
        return result;
      });
    },
  };
}

export type MarketDataActivities = ReturnType<typeof createMarketDataActivities>;
