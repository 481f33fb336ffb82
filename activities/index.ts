// Activities are thin adapters between workflows and lib/: each factory closes over the worker's
// long-lived resources (database pool, model client, price source). Workflows import these types only.

export {
  createLeaderboardActivities,
  type LeaderboardActivities,
  type LeaderboardDeps,
  type RefreshLeaderboardInput,
} from './leaderboard.js';
export { createMarketDataActivities, type MarketDataActivities, type MarketDataDeps } from './market-data.js';
export {
  createModelActivities,
  type ModelActivities,
  type ModelDeps,
  type PredictShardInput,
  type TickModelsInput,
} from './models.js';
export {
  createScoreListingActivities,
  createScoringActivities,
  resolveScorer,
  type ScoreListingActivities,
  type ScorePredictionsInput,
  type ScorePredictionsResult,
  type ScorerChoice,
  type ScoringActivities,
  type ScoringDeps,
} from './scoring.js';
export { createStorageActivities, type StorageActivities, type StorageDeps } from './storage.js';
