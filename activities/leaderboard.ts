import { applyRetention, type DatabasePool, type RetentionPolicy, type RetentionResult } from '../lib/db/index.js';
import type { GameDefinition } from '../lib/game/index.js';
import { leaderboardInstants, type RefreshResult, refreshLeaderboard } from '../lib/leaderboard/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { resolveScorer, type ScorerChoice } from './game.js';
import { withHeartbeat } from './heartbeat.js';

export interface LeaderboardDeps {
  db: DatabasePool;
  /** The worker's game (the GAME setting): a leaderboard of another game is refused. */
  game: GameDefinition;
  logger?: Logger;
}

export interface RefreshLeaderboardInput extends ScorerChoice {
  /** The instant every window ends at (unix seconds). */
  asOf: number;
}

/** Leaderboard passes and retention: database work, on the `postgres` queue. */
export function createLeaderboardActivities(deps: LeaderboardDeps) {
  const log = deps.logger ?? createLogger('leaderboard');
  return {
    /** Windows, snapshots and ranks at one instant (idempotent per instant); the scorer gives the direction. */
    async refreshLeaderboard(input: RefreshLeaderboardInput): Promise<RefreshResult> {
      const { game, scorer } = resolveScorer(input, deps.game);
      return withHeartbeat(async () => {
        const result = await refreshLeaderboard(deps.db, {
          asOf: input.asOf,
          windows: game.windows,
          direction: scorer.direction,
        });
        log.info(
          result,
          `leaderboard at ${new Date(input.asOf * 1000).toISOString()}: ${result.models} models ranked` +
            (result.leader ? `, ${result.leader} first` : ''),
        );
        return result;
      });
    },

    /** Instants (unix seconds) that already have a leaderboard, within [from, to]. */
    async leaderboardInstants(input: { from: number; to: number }): Promise<number[]> {
      return leaderboardInstants(deps.db, input);
    },

    /** Deletes what every table no longer needs (lib/db applyRetention), measured from now. */
    async applyRetentionPolicy(input: { policy?: Partial<RetentionPolicy> } = {}): Promise<RetentionResult> {
      return withHeartbeat(async () => {
        const deleted = await applyRetention(deps.db, input.policy ? { policy: input.policy } : {});
        const total = Object.values(deleted).reduce((sum, count) => sum + count, 0);
        if (total > 0) log.info(deleted, `retention deleted ${total} old rows`);
        return deleted;
      });
    },
  };
}

export type LeaderboardActivities = ReturnType<typeof createLeaderboardActivities>;
