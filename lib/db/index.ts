export {
  type CheckpointStatus,
  type CheckpointSummary,
  type CreateCheckpointOptions,
  type CreateCheckpointResult,
  checkpointStatuses,
  confirmCheckpoint,
  createCheckpoint,
  latestCheckpointEnd,
  moveCheckpointStatus,
  type StatusChange,
} from './checkpoints.js';
export { databaseName, defaultDatabaseUrl, ensureDatabase, withDatabase } from './database.js';
export {
  type DeploymentInput,
  type DeploymentRecord,
  markFullHistorySent,
  recordDeployments,
} from './deployments.js';
export {
  type EmbeddedPostgresOptions,
  embeddedPostgresBinaries,
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from './embedded-server.js';
export { type FeedMarkInput, type FeedState, forgetFeed, loadFeedState, recordFeedMarks } from './feed-marks.js';
export {
  type AppendCycleResult,
  appendMerkleCycle,
  fromMicros,
  lockEmissionChain,
  type MerkleCycleRow,
  merkleCycleRow,
} from './merkle-cycles.js';
export {
  defaultMigrationsDirectory,
  type MigrateOptions,
  type MigrateResult,
  migrate,
  readMigrations,
} from './migrations.js';
export { type ExpectedModel, expectedModels, type ModelInput, setExpectedToRun, upsertModels } from './models.js';
export { createDatabasePool, type DatabasePool, type DatabasePoolOptions } from './pool.js';
export { activatePredictionGroups, type PredictionGroupConfig } from './prediction-configs.js';
export {
  activePredictionConfigs,
  insertPredictions,
  type PredictionConfig,
  type PredictionInput,
  type PredictionStatus,
  predictionStatuses,
} from './predictions.js';
export {
  applyPriceCorrections,
  type FeedRun,
  insertPrices,
  latestPriceTs,
  longestHorizon,
  type PriceCorrection,
  type PriceHold,
  type PriceRow,
  pricesBetween,
  recordFeedRun,
  recordPriceCorrections,
  recordPriceHolds,
  releasePriceHolds,
  type StoredPrice,
} from './prices.js';
export {
  applyRetention,
  defaultRetention,
  type RetentionOptions,
  type RetentionPolicy,
  type RetentionResult,
} from './retention.js';
export {
  type BatchPrediction,
  type CurrentScore,
  loadScoringBatch,
  pricesAround,
  type ScoringCursor,
  type ScoringPage,
  type ScoringPageOptions,
  type SettlementOptions,
  type SettlementRule,
  scoringPage,
} from './score-batches.js';
export { recordScores, type ScorablePrediction, type ScoreInput, scorablePredictions } from './scores.js';
export { statementName, tracingInterceptor } from './tracing.js';
