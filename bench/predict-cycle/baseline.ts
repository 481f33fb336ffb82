// The predict cycle without Temporal: the same library calls the workflow's activities make, in the
// same order, from one plain Node process. What the workflow version costs beyond this is Temporal's.
import { createStorageActivities } from '../../activities/storage.js';
import { type PredictRoundSummary, type PriceFeed, predictRound } from '../../lib/cycle/index.js';
import { type DatabasePool, insertPrices, latestPriceTs } from '../../lib/db/index.js';
import type { GameDefinition } from '../../lib/game/index.js';
import type { Logger } from '../../lib/log/index.js';
import type { PriceSource } from '../../lib/market-data/index.js';
import type { ModelRunnerClient } from '../../lib/model-runner/index.js';
import { duePredictions } from '../../lib/schedule/index.js';

export interface BaselineDeps {
  db: DatabasePool;
  client: ModelRunnerClient;
  feed: PriceFeed;
  game: GameDefinition;
  logger: Logger;
}

export interface BaselineCycle {
  untilSec: number;
  periodSec: number;
  timeoutMs: number;
}

/**
 * The ingest-prices workflow's work (syncPrices without the activity's heartbeat), untimed: prices come
 * in on their own schedule, apart from the cycle, so both sides of the bench find them stored.
 */
export async function storeNewPrices(db: DatabasePool, source: PriceSource, untilSec: number): Promise<void> {
  const groups = await createStorageActivities({ db }).loadPredictionGroups();
  for (const asset of new Set(groups.flatMap((group) => group.assets))) {
    const newest = await latestPriceTs(db, asset);
    const from = newest === null ? untilSec - 30 * 86_400 : newest + 1;
    if (from > untilSec) continue;
    const points = await source.fetch(asset, from, untilSec);
    await insertPrices(
      db,
      points.map((point) => ({ asset, ts: point.ts, price: point.price })),
      'synthetic',
    );
  }
}

/** One cycle: tick every model, ask for the due predictions and store the answers. */
export async function baselineCycle(deps: BaselineDeps, cycle: BaselineCycle): Promise<PredictRoundSummary> {
  const { db, feed } = deps;
  // loadPredictionGroups needs no activity context: the very function the workflow's activity runs.
  const groups = await createStorageActivities({ db }).loadPredictionGroups();
  const assets = [...new Set(groups.flatMap((group) => group.assets))];
  const due = duePredictions(cycle.untilSec, cycle.periodSec, groups);
  await feed.feed({ assets, untilSec: cycle.untilSec });
  return predictRound(
    { client: deps.client, db, game: deps.game, feed, logger: deps.logger },
    { due, timeoutMs: cycle.timeoutMs },
  );
}
