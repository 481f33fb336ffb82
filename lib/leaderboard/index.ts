// Rolling windows, snapshots and leaderboards in SQL (docs/game.md#windows-and-leaderboard, with our decisions). See README.md.
export { leaderboardInstants } from './history.js';
export { type RefreshOptions, type RefreshResult, refreshLeaderboard } from './refresh.js';
export { type BackfillSlice, backfillSlices, iso, leaderboardInstantsOf } from './slices.js';
export {
  checkWindowOptions,
  readWindowScores,
  settleRunningTotals,
  type WindowOptions,
  type WindowScoresAt,
  windowsCte,
} from './windows.js';
