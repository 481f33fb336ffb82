// Rolling windows, snapshots and leaderboards in SQL (GAME.md §5 with the §7 decisions). See README.md.
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
