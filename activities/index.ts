// Activities are thin adapters between workflows and lib/: each factory closes over the worker's
// long-lived resources (database pool, model client, price source). Workers register one interface per
// task queue (queues.ts); workflows import those types only.

export { resolveScorer, type ScorerChoice, workerGame } from './game.js';
export type { LeaderboardDeps, RefreshLeaderboardInput } from './leaderboard.js';
export type { MarketDataDeps } from './market-data.js';
export type { ModelDeps, PredictShardInput, TickModelsInput } from './models.js';
export {
  createModelCallsQueueActivities,
  createPostgresQueueActivities,
  createScoringQueueActivities,
  type ModelCallsQueueActivities,
  type PostgresQueueActivities,
  type PostgresQueueDeps,
  type ScoringQueueActivities,
} from './queues.js';
export type { ScorePredictionsInput, ScorePredictionsResult, ScoringDeps } from './scoring.js';
export type { StorageDeps } from './storage.js';
