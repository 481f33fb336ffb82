import { ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { LeaderboardActivities } from '../activities/index.js';
import type { RefreshResult } from '../lib/leaderboard/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { taskQueues } from '../lib/temporal/task-queues.js';

export interface LeaderboardRefreshInput {
  /** The one instant every window ends at (ISO-8601). */
  asOf: string;
  /** Game id (lib/game), default 'condor'; its scorer gives the ranking direction (default: the game's). */
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

const postgres = proxyActivities<LeaderboardActivities>({
  taskQueue: taskQueues.postgres,
  // A refresh after a large rescore first recomputes millions of running totals.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
});

/**
 * Rolling windows at one instant, one snapshot per model and a ranked leaderboard (lib/leaderboard),
 * then retention. Running it again for the same instant rewrites the same rows.
 */
export async function leaderboardRefresh(input: LeaderboardRefreshInput): Promise<LeaderboardRefreshResult> {
  const ms = typeof input?.asOf === 'string' ? new Date(input.asOf).getTime() : Number.NaN;
  if (Number.isNaN(ms)) {
    throw ApplicationFailure.nonRetryable(`asOf "${String(input?.asOf)}" is not an ISO-8601 instant`, 'BadInput');
  }
  const asOf = ms / 1000;
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(ms) }]);
  const result = await postgres.refreshLeaderboard({
    asOf,
    game: input.game ?? 'condor',
    ...(input.scorer ? { scorer: input.scorer } : {}),
  });
  let retentionDeleted: number | null = null;
  if (input.retention !== false) {
    const deleted = await postgres.applyRetentionPolicy({});
    retentionDeleted = Object.values(deleted).reduce((sum, count) => sum + count, 0);
  }
  return { ...result, asOf: new Date(ms).toISOString(), retentionDeleted };
}
