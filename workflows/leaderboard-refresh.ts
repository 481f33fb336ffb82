import { upsertSearchAttributes } from '@temporalio/workflow';
import type { RefreshResult } from '../lib/leaderboard/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { gameOf, instantOf } from './inputs.js';
import { postgres } from './queues.js';

export interface LeaderboardRefreshInput {
  /** The one instant every window ends at (ISO-8601). */
  asOf: string;
  /** Game id (lib/game), default the default game; its scorer gives the ranking direction (default: the game's). */
  game?: string;
  scorer?: string;
  /** Apply the retention policy afterwards (default true; a backfill of the past turns it off). */
  retention?: boolean;
}

export interface LeaderboardRefreshResult extends Omit<RefreshResult, 'asOf'> {
  asOf: string;
  /** Rows retention deleted, null when it did not run. */
  retentionDeleted: number | null;
}

/**
 * Rolling windows at one instant, one snapshot per model and a ranked leaderboard (lib/leaderboard),
 * then retention. Running it again for the same instant rewrites the same rows.
 */
export async function leaderboardRefresh(input: LeaderboardRefreshInput): Promise<LeaderboardRefreshResult> {
  const asOf = instantOf(input?.asOf, 'asOf');
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(asOf * 1000) }]);
  const result = await postgres.refreshLeaderboard({
    asOf,
    game: gameOf(input),
    ...(input.scorer ? { scorer: input.scorer } : {}),
  });
  let retentionDeleted: number | null = null;
  if (input.retention !== false) {
    const deleted = await postgres.applyRetentionPolicy({});
    retentionDeleted = Object.values(deleted).reduce((sum, count) => sum + count, 0);
  }
  return { ...result, asOf: new Date(asOf * 1000).toISOString(), retentionDeleted };
}
