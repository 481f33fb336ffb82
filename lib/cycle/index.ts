export { toCallArguments } from './call-arguments.js';
export { type CallDeadlineCheck, checkCallDeadline, type SlotGroup, smallestSlotGapMs } from './call-deadline.js';
export { recordFleet } from './fleet.js';
export {
  type PredictRoundDeps,
  type PredictRoundRequest,
  type PredictRoundSummary,
  predictRound,
  type StatusCounts,
} from './predict-round.js';
export {
  type FeedProgress,
  type FeedRequest,
  type FeedSummary,
  PriceFeed,
  type PriceFeedOptions,
} from './price-feed.js';
export { inShard, type Shard, shardOf, wholeFleet } from './shards.js';
