// One activity interface per task queue: what its worker registers (workers/*.ts) and all a workflow may
// call on that queue (workflows/queues.ts proxies exactly these types).
import { createLeaderboardActivities, type LeaderboardDeps } from './leaderboard.js';
import { createMarketDataActivities, type MarketDataDeps } from './market-data.js';
import { createModelActivities, type ModelDeps } from './models.js';
import { createScoreListingActivities, createScoringActivities, type ScoringDeps } from './scoring.js';
import { createStorageActivities, type StorageDeps } from './storage.js';

/** Every database read and write the workflows need: prediction configs, prices, scoring pages, leaderboards. */
export type PostgresQueueActivities = ReturnType<typeof createStorageActivities> &
  ReturnType<typeof createMarketDataActivities> &
  ReturnType<typeof createScoreListingActivities> &
  ReturnType<typeof createLeaderboardActivities>;

export type PostgresQueueDeps = StorageDeps & MarketDataDeps & LeaderboardDeps;

export function createPostgresQueueActivities(deps: PostgresQueueDeps): PostgresQueueActivities {
  return {
    ...createStorageActivities(deps),
    ...createMarketDataActivities(deps),
    ...createScoreListingActivities(deps),
    ...createLeaderboardActivities(deps),
  };
}

/** The tick and predict fan-out over the live model connections. */
export type ModelCallsQueueActivities = ReturnType<typeof createModelActivities>;

export function createModelCallsQueueActivities(deps: ModelDeps): ModelCallsQueueActivities {
  return createModelActivities(deps);
}

/** CPU-bound scoring of one batch at a time. */
export type ScoringQueueActivities = ReturnType<typeof createScoringActivities>;

export function createScoringQueueActivities(deps: ScoringDeps): ScoringQueueActivities {
  return createScoringActivities(deps);
}
