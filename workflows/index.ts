// Every workflow the coordinator worker runs. Deterministic code only: no I/O, clocks or randomness
// beyond what @temporalio/workflow provides; activities are imported as types.

export {
  type BackfillProgress,
  type BackfillScoresInput,
  type BackfillSliceInput,
  type BackfillSliceProgress,
  backfillScores,
  backfillSlice,
} from './backfill-scores.js';
export {
  defaultCheckpointSeconds,
  type EmissionCheckpointInput,
  type EmissionCheckpointResult,
  emissionCheckpoint,
} from './emission-checkpoint.js';
export { type FeedModelsInput, type FeedModelsResult, feedModels } from './feed-models.js';
export { type IngestPricesInput, type IngestPricesResult, ingestPrices } from './ingest-prices.js';
export {
  type LeaderboardRefreshInput,
  type LeaderboardRefreshResult,
  leaderboardRefresh,
} from './leaderboard-refresh.js';
export { type PredictCycleInput, type PredictCycleResult, predictCycle } from './predict-cycle.js';
export { type PredictSlotInput, type PredictSlotResult, predictSlot } from './predict-slot.js';
export { type PredictSlotsInput, type PredictSlotsResult, predictSlots } from './predict-slots.js';
export { type ScorePassInput, type ScorePassResult, scorePass } from './score-pass.js';
export type { ScoringProgress } from './score-range.js';
