import {
  applyPriceCorrections,
  type DatabasePool,
  insertPrices,
  latestPriceTs,
  longestHorizon,
  pricesBetween,
  recordFeedRun,
  recordPriceCorrections,
  recordPriceHolds,
  releasePriceHolds,
} from '../lib/db/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import {
  type CheckBounds,
  closedMinutes,
  type PricePoint,
  type PriceSource,
  reconcile,
  type SourcedPoint,
  sourcesOf,
} from '../lib/market-data/index.js';
import { withHeartbeat } from './heartbeat.js';

/** How an ingestion run checks what it fetches (README "Price pipeline"). */
export interface IngestionSettings {
  /** Each run re-reads this many seconds before now, filling gaps and seeing corrections (default 300). */
  repairWindowSeconds: number;
  /** Per asset: the largest |ln(p / previous)| stored without confirmation. */
  maxJump: (asset: string) => number;
  /** Largest |ln(a / b)| between the two sources before it is logged and shown as a divergence. */
  maxDivergence: number;
}

export const ingestionDefaults: IngestionSettings = {
  repairWindowSeconds: 300,
  maxJump: () => 0.1,
  maxDivergence: 0.01,
};

export interface MarketDataDeps {
  db: DatabasePool;
  /** The configured source; a fallback chain's two real sources are asked one by one (sourcesOf). */
  source: PriceSource;
  /** How far back an asset with no stored price starts (default 30 days: a new model's first tick). */
  historySeconds?: number;
  ingestion?: Partial<IngestionSettings>;
  logger?: Logger;
}

export interface SyncPricesInput {
  assets: string[];
  /** Fetch up to this instant (unix seconds): only minutes closed by then are stored. */
  untilSec: number;
}

export interface SyncPricesResult {
  /** New points stored per asset. */
  stored: Record<string, number>;
  /** Newest stored point per asset after the sync (unix seconds), null when the asset has none. */
  latest: Record<string, number | null>;
  /** Points held back or rejected by the plausibility check, per asset. */
  held: Record<string, number>;
  /** Later values of stored minutes seen for the first time, per asset (logged, not applied). */
  corrections: Record<string, number>;
}

interface Fetched {
  points: SourcedPoint[];
  crossCheck: PricePoint[] | null;
  crossSource: string | null;
}

export function createMarketDataActivities(deps: MarketDataDeps) {
  const log = deps.logger ?? createLogger('market-data');
  const historySeconds = deps.historySeconds ?? 30 * 86_400;
  const settings: IngestionSettings = { ...ingestionDefaults, ...deps.ingestion };
  const sources = sourcesOf(deps.source);

  /** The first source that answers; the next one (when there is one) answers too, as a cross-check. */
  async function fetchFrom(asset: string, from: number, to: number): Promise<Fetched> {
    const failures: string[] = [];
    for (const [index, source] of sources.entries()) {
      let points: PricePoint[];
      try {
        points = await source.fetch(asset, from, to);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push(reason);
        const next = sources[index + 1];
        log.warn(
          { asset, source: source.name, reason, ...(next ? { fallback: next.name } : {}) },
          `price source ${source.name} failed for ${asset} (${reason})${next ? `: asking ${next.name}` : ''}`,
        );
        continue;
      }
      const checker = sources[index + 1];
      let crossCheck: PricePoint[] | null = null;
      if (checker) {
        try {
          crossCheck = await checker.fetch(asset, from, to);
        } catch (error) {
          log.warn(
            { asset, source: checker.name, reason: (error as Error).message },
            `cross-check source ${checker.name} failed for ${asset}: prices of ${source.name} are stored unchecked`,
          );
        }
      }
      return {
        points: points.map((point) => ({ ts: point.ts, price: point.price, source: point.source ?? source.name })),
        crossCheck,
        crossSource: checker?.name ?? null,
      };
    }
    throw new Error(`no price source answered for ${asset}: ${failures.join('; then ')}`);
  }

  async function syncAsset(asset: string, untilSec: number, result: SyncPricesResult): Promise<void> {
    const newest = await latestPriceTs(deps.db, asset);
    // Re-read the repair window (gaps, late minutes, corrections), or everything since the newest point
    // when it is older than that (an outage).
    const from =
      newest === null ? untilSec - historySeconds : Math.min(newest + 1, untilSec - settings.repairWindowSeconds);
    result.stored[asset] = 0;
    result.held[asset] = 0;
    result.corrections[asset] = 0;
    if (from > untilSec - 60) {
      result.latest[asset] = newest;
      return;
    }
    const fetched = await fetchFrom(asset, from, untilSec);
    // The minute in progress has a provisional close: never stored, never sent to models.
    const points = closedMinutes(fetched.points, untilSec);
    const crossCheck = fetched.crossCheck ? closedMinutes(fetched.crossCheck, untilSec) : null;
    // The stored neighbours: the repair window plus an hour before it, for the first new point's previous one.
    const stored = await pricesBetween(deps.db, asset, from - 3600, untilSec);
    const bounds: CheckBounds = { maxJump: settings.maxJump(asset), maxDivergence: settings.maxDivergence };
    const decided = reconcile({ stored, fetched: points, crossCheck, bounds });

    result.stored[asset] = await insertPrices(
      deps.db,
      decided.store.map((point) => ({ asset, ...point })),
      points[0]?.source ?? sources[0]!.name,
    );
    await releasePriceHolds(
      deps.db,
      asset,
      decided.store.map((point) => point.ts),
    );
    const held = await recordPriceHolds(
      deps.db,
      decided.held.map((point) => ({ asset, ...point })),
    );
    result.held[asset] = decided.held.length;
    for (const point of held) {
      log.warn(
        { asset, ts: point.ts, price: point.price, source: point.source, state: point.state },
        `${asset} price ${point.price} at ${iso(point.ts)} from ${point.source} ${point.state === 'held' ? 'held back' : 'rejected'}: ${point.reason}`,
      );
    }
    const corrections = await recordPriceCorrections(
      deps.db,
      decided.corrections.map((correction) => ({ asset, ...correction })),
    );
    result.corrections[asset] = corrections.length;
    for (const correction of corrections) {
      log.warn(
        { ...correction },
        `${correction.source} now says ${asset} at ${iso(correction.ts)} was ${correction.correctedPrice}, ` +
          `not the stored ${correction.storedPrice}: not applied (scores stay as they are until an operator ` +
          'runs a backfill with applyPriceCorrections)',
      );
    }
    const divergence = decided.divergence;
    if (divergence && divergence.value > settings.maxDivergence) {
      log.warn(
        { asset, divergence: divergence.value, ts: divergence.ts, sources: [points[0]?.source, fetched.crossSource] },
        `${asset}: the two price sources disagree by ${(divergence.value * 100).toFixed(2)} % at ${iso(divergence.ts)} ` +
          `(bound ${(settings.maxDivergence * 100).toFixed(2)} %)`,
      );
    }
    await recordFeedRun(deps.db, {
      asset,
      ok: true,
      divergence: divergence
        ? { value: divergence.value, sources: `${points[0]?.source ?? sources[0]!.name} vs ${fetched.crossSource}` }
        : null,
    });
    result.latest[asset] = await latestPriceTs(deps.db, asset);
  }

  return {
    /**
     * Applies the pending price corrections of the minutes that predictions resolving in [from, to]
     * (unix seconds) use: from `from` less the longest horizon configured, to `to`. Only an operator's
     * backfill (applyPriceCorrections) calls it; the backfill then rescores the range.
     */
    async applyPriceCorrections(input: { from: number; to: number }): Promise<{ applied: number }> {
      return withHeartbeat(async () => {
        const longest = await longestHorizon(deps.db);
        const applied = await applyPriceCorrections(deps.db, input.from - longest, input.to);
        for (const point of applied) {
          log.warn(point, `applied the price correction of ${point.asset} at ${iso(point.ts)} (operator's backfill)`);
        }
        return { applied: applied.length };
      });
    },

    /**
     * Stores the closed minutes each asset's sources answered since the newest stored one, re-reading
     * the repair window, after the plausibility and cross-source checks (idempotent). An asset whose
     * every source fails is recorded as failing in price_feeds; the activity then fails after the
     * other assets are done, and Temporal's retry policy retries it (no retry loop of its own).
     */
    async syncPrices(input: SyncPricesInput): Promise<SyncPricesResult> {
      return withHeartbeat(async () => {
        const result: SyncPricesResult = { stored: {}, latest: {}, held: {}, corrections: {} };
        const failed: string[] = [];
        for (const asset of input.assets) {
          try {
            await syncAsset(asset, input.untilSec, result);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            failed.push(reason);
            await recordFeedRun(deps.db, { asset, ok: false, error: reason });
            result.latest[asset] = await latestPriceTs(deps.db, asset);
          }
        }
        log.info(
          { source: deps.source.name, ...result },
          `prices from ${deps.source.name} up to ${iso(input.untilSec)}: ` +
            Object.entries(result.stored)
              .map(([asset, count]) => `${asset} +${count}`)
              .join(', '),
        );
        if (failed.length > 0) throw new Error(failed.join('; '));
        return result;
      });
    },
  };
}

const iso = (ts: number) => new Date(ts * 1000).toISOString();

export type MarketDataActivities = ReturnType<typeof createMarketDataActivities>;
