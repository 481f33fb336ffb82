import { type FeedSummary, type PredictRoundSummary, PriceFeed, predictRound, type Shard } from '../lib/cycle/index.js';
import type { DatabasePool } from '../lib/db/index.js';
import type { GameDefinition } from '../lib/game/index.js';
import type { Logger } from '../lib/log/index.js';
import type { ModelRunnerClient } from '../lib/model-runner/index.js';
import type { DuePrediction } from '../lib/schedule/index.js';
import { workerGame } from './game.js';
import { withHeartbeat } from './heartbeat.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ModelDeps {
  /** The worker's one live client: it holds every model connection for the worker's lifetime. */
  client: ModelRunnerClient;
  db: DatabasePool;
  game: GameDefinition;
  /** Deadline of one tick call (default: the game's predict timeout, at least a minute). */
  tickTimeoutMs?: number;
  logger?: Logger;
}

export interface TickModelsInput {
  /** The workflow's game: it must be the worker's (the worker's models are that game's). */
  game: string;
  assets: string[];
  untilSec: number;
  shard: Shard;
}

export interface PredictShardInput extends TickModelsInput {
  due: DuePrediction[];
  timeoutMs: number;
  /**
   * Tick the shard's models before asking them (default true: a cycle's own feed). A slot passes false:
   * the models are fed after each price ingestion (feedModels), and a tick to a slow model must not
   * stand between the slot's instant and the honest models' calls.
   */
  feed?: boolean;
  /**
   * The slot's instant (unix ms): the activity prepares (reads who is fed), then waits for it before
   * asking, so the calls start at the instant, not after the hops of starting a workflow and an activity.
   */
  notBeforeMs?: number;
}

export function createModelActivities(deps: ModelDeps) {
  // Ticks run apart from the slots (feedModels), so they need not fit between two slots: a first tick
  // carries 30 days of history, which a model may take seconds to load on a busy machine.
  const tickTimeoutMs = deps.tickTimeoutMs ?? Math.max(60_000, deps.game.predictTimeoutSeconds * 1000);
  const feed = new PriceFeed({
    client: deps.client,
    db: deps.db,
    game: deps.game,
    timeoutMs: tickTimeoutMs,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  return {
    /** Sends the new prices to every model of the shard (the whole history to a deployment new to it). */
    async tickModels(input: TickModelsInput): Promise<FeedSummary> {
      workerGame(input.game, deps.game);
      return withHeartbeat((signal) => feed.feed(input, { signal }));
    },

    /**
     * Asks the shard's models for the due predictions and stores every answer. It feeds too (unless told
     * not to): on a retry, or on another worker than the tick ran on, a model must still have its
     * history before it predicts (a no-op when the tick already did it); each model's predict follows
     * its own tick. Told not to (a slot: feedModels feeds after each price ingestion), it only reads
     * which models are fed, waits for the slot's instant, and asks those.
     */
    async predictShard(input: PredictShardInput): Promise<PredictRoundSummary> {
      workerGame(input.game, deps.game);
      return withHeartbeat(async (signal) => {
        if (input.feed === false) await feed.refresh(input.shard);
        const wait = (input.notBeforeMs ?? 0) - Date.now();
        if (wait > 0) await sleep(wait);
        return predictRound(
          { client: deps.client, db: deps.db, game: deps.game, feed, ...(deps.logger ? { logger: deps.logger } : {}) },
          {
            due: input.due,
            shard: input.shard,
            timeoutMs: input.timeoutMs,
            ...(input.feed === false ? {} : { feed: { assets: input.assets, untilSec: input.untilSec } }),
            signal,
          },
        );
      });
    },
  };
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
